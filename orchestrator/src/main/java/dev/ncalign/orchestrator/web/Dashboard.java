package dev.ncalign.orchestrator.web;

import dev.ncalign.orchestrator.loop.RoundListener;
import dev.ncalign.orchestrator.store.RoundMetrics;
import dev.ncalign.orchestrator.store.RunStore;
import dev.ncalign.orchestrator.store.SampleRecord;
import dev.ncalign.orchestrator.train.RewardBatch;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.util.List;

/**
 * The live run dashboard: a page with per-round charts, replicas and recent samples that updates
 * through server-sent events, a JSON API under {@code /api/}, and Prometheus {@code /metrics}.
 * Listens on 127.0.0.1 only. Register it as a {@link RoundListener} of the loop; it also feeds
 * {@link #metrics()}.
 *
 * <pre>
 *   GET /                    the page (script, style and Chart.js under /assets/, all from the jar)
 *   GET /api/metrics         every metrics row, as in metrics.jsonl (non-finite numbers as null)
 *   GET /api/samples?limit=N the N most recent samples, newest first (default 50)
 *   GET /api/status          run name, live policy version, rounds done, replicas and their health
 *   GET /api/events          server-sent events: one "round" event per completed round
 *   GET /metrics             Prometheus text format
 * </pre>
 */
public final class Dashboard implements RoundListener, AutoCloseable {

  private final Vertx vertx;
  private final HttpServer server;
  private final RunHistory history;
  private final OrchestratorMetrics metrics;
  private final EventStream events;

  private Dashboard(
      Vertx vertx,
      HttpServer server,
      RunHistory history,
      OrchestratorMetrics metrics,
      EventStream events) {
    this.vertx = vertx;
    this.server = server;
    this.history = history;
    this.metrics = metrics;
    this.events = events;
  }

  /**
   * Starts serving on 127.0.0.1:{@code port} (0 picks a free port) with the rows already in {@code
   * store}, so a resumed run shows its history.
   *
   * @param status asked for the replicas whenever a page loads /api/status (after each round, and
   *     every few seconds while a page is open)
   * @throws IllegalStateException if the port cannot be bound
   */
  public static Dashboard start(int port, String runName, RunStore store, ReplicaStatus status) {
    RunHistory history = new RunHistory();
    OrchestratorMetrics metrics = new OrchestratorMetrics();
    metrics.trackReplicas(status);
    store.metrics().forEach(row -> history.add(row, List.of()));
    List<SampleRecord> samples = store.samples();
    history.addSamples(
        samples.subList(Math.max(0, samples.size() - RunHistory.SAMPLE_WINDOW), samples.size()));
    if (history.last() != null) {
      metrics.restore(history.last());
    }

    Vertx vertx = Vertx.vertx();
    EventStream events = new EventStream();
    DashboardRoutes routes = new DashboardRoutes(vertx, runName, status, history, metrics, events);
    try {
      HttpServer server =
          await(vertx.createHttpServer().requestHandler(routes.router()).listen(port, "127.0.0.1"));
      return new Dashboard(vertx, server, history, metrics, events);
    } catch (RuntimeException e) {
      vertx.close();
      throw new IllegalStateException(
          "cannot start the dashboard on 127.0.0.1:" + port + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void roundCompleted(RoundMetrics row, RewardBatch batch) {
    List<SampleRecord> samples = SampleRecord.of(row.round(), batch);
    history.add(row, samples);
    metrics.roundCompleted(row, batch);
    RoundEvent event =
        new RoundEvent(
            row,
            history.roundsDone(),
            row.liveVersion(),
            history.recentSamples(Math.min(samples.size(), DashboardRoutes.PAGE_SAMPLES)));
    events.publish("round", DashboardJson.write(event));
  }

  /**
   * The Prometheus meters this dashboard serves; the loop may add its own to {@code registry()}.
   */
  public OrchestratorMetrics metrics() {
    return metrics;
  }

  public int port() {
    return server.actualPort();
  }

  /** The page's address, e.g. {@code http://127.0.0.1:8080/}. */
  public String url() {
    return "http://127.0.0.1:" + port() + "/";
  }

  @Override
  public void close() {
    events.closeAll();
    await(server.close());
    await(vertx.close());
  }

  private static <T> T await(Future<T> future) {
    return future.toCompletionStage().toCompletableFuture().join();
  }
}

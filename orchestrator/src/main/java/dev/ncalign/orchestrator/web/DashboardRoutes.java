package dev.ncalign.orchestrator.web;

import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/** The dashboard's HTTP handlers, listed in {@link Dashboard}'s Javadoc. */
final class DashboardRoutes {

  /** Samples the page shows, and the default of {@code /api/samples}. */
  static final int PAGE_SAMPLES = 50;

  private final Vertx vertx;
  private final String runName;
  private final ReplicaStatus status;
  private final RunHistory history;
  private final OrchestratorMetrics metrics;
  private final EventStream events;

  DashboardRoutes(
      Vertx vertx,
      String runName,
      ReplicaStatus status,
      RunHistory history,
      OrchestratorMetrics metrics,
      EventStream events) {
    this.vertx = vertx;
    this.runName = runName;
    this.status = status;
    this.history = history;
    this.metrics = metrics;
    this.events = events;
  }

  Router router() {
    Router router = Router.router(vertx);
    StaticAssets.mount(router);
    router.get("/api/metrics").handler(ctx -> json(ctx, history.metrics()));
    router.get("/api/samples").handler(this::samples);
    router.get("/api/status").handler(this::status);
    router.get("/api/events").handler(events::subscribe);
    router
        .get("/metrics")
        .handler(
            ctx ->
                ctx.response()
                    .putHeader("Content-Type", OrchestratorMetrics.CONTENT_TYPE)
                    .end(metrics.scrape()));
    return router;
  }

  private void samples(RoutingContext ctx) {
    String limit = ctx.request().getParam("limit", String.valueOf(PAGE_SAMPLES));
    int n;
    try {
      n = Integer.parseInt(limit);
    } catch (NumberFormatException e) {
      n = -1;
    }
    if (n < 0) {
      ctx.response()
          .setStatusCode(400)
          .end("limit must be a non-negative integer, got '" + limit + "'\n");
      return;
    }
    json(ctx, history.recentSamples(n));
  }

  private void status(RoutingContext ctx) {
    // Health probes block on gRPC calls: run them on a worker, not on the event loop.
    vertx
        .executeBlocking(status::replicas, false)
        .map(
            replicas ->
                new RunStatus(
                    runName,
                    LiveVersion.of(replicas, history.last()),
                    history.roundsDone(),
                    replicas))
        .onSuccess(body -> json(ctx, body))
        .onFailure(ctx::fail);
  }

  private static void json(RoutingContext ctx, Object body) {
    ctx.response().putHeader("Content-Type", "application/json").end(DashboardJson.write(body));
  }
}

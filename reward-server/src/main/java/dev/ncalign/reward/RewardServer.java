package dev.ncalign.reward;

import ai.onnxruntime.OrtException;
import dev.ncalign.proto.v1.RewardServiceGrpc;
import dev.ncalign.reward.metrics.MetricsHttpServer;
import dev.ncalign.reward.metrics.RewardMetrics;
import dev.ncalign.reward.metrics.RpcMetricsInterceptor;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.TlsServerCredentials;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running reward server: {@link RewardService} plus the standard gRPC health and reflection
 * services on one port, and optionally Prometheus {@code /metrics} over HTTP on another. Tests and
 * the orchestrator can run it in-process; {@link Main} runs it from the command line.
 */
public final class RewardServer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(RewardServer.class);

  private final Server server;
  private final RewardScorer scorer;
  private final HealthStatusManager health;

  /** Null when metrics are off. */
  private final MetricsHttpServer metrics;

  private RewardServer(
      Server server, RewardScorer scorer, HealthStatusManager health, MetricsHttpServer metrics) {
    this.server = server;
    this.scorer = scorer;
    this.health = health;
    this.metrics = metrics;
  }

  /**
   * Loads the model and starts listening.
   *
   * @throws IllegalArgumentException if the model or settings cannot be served (the message names
   *     why)
   * @throws IOException if the model cannot be read or the port cannot be bound
   */
  public static RewardServer start(RewardServerOptions options) throws IOException {
    RewardModelConfig settings =
        options.resolve(
            RewardModelConfig.read(options.modelDir()).orElse(RewardModelConfig.DEFAULTS));
    // Recorded even when nobody scrapes them: an update costs nothing next to a model run, and one
    // code
    // path is simpler than two.
    PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(meters);
    RewardScorer scorer;
    try {
      scorer =
          RewardScorer.open(
              options.modelDir(),
              settings.inputFormat(),
              settings.labelIndex(),
              settings.maxLength(),
              options.maxBatchSize(),
              Duration.ofMillis(options.maxWaitMs()),
              new RewardMetrics(meters));
    } catch (OrtException e) {
      throw new IOException(
          "ONNX Runtime could not load " + options.modelDir() + ": " + e.getMessage(), e);
    }
    MetricsHttpServer metrics = null;
    try {
      RewardService service = new RewardService(scorer, options.maxItems(), options.maxChars());
      HealthStatusManager health = new HealthStatusManager();
      Server server =
          NettyServerBuilder.forAddress(
                  new InetSocketAddress(options.bind(), options.port()), credentials(options))
              .maxInboundMessageSize(options.maxMessageBytes())
              .addService(rewardService(service, options, new RpcMetricsInterceptor(meters)))
              .addService(health.getHealthService())
              .addService(ProtoReflectionServiceV1.newInstance())
              .build();
      if (options.metricsPort() >= 0) {
        metrics = MetricsHttpServer.start(meters, options.bind(), options.metricsPort());
      }
      server.start();
      health.setStatus("", ServingStatus.SERVING);
      health.setStatus(RewardServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
      LOG.info(
          "reward server on {}:{} serving {} ({}, label {}, max_length {}){}",
          options.bind(),
          server.getPort(),
          options.modelDir(),
          settings.inputFormat(),
          settings.labelIndex(),
          settings.maxLength(),
          metrics == null ? "" : ", metrics on port " + metrics.port());
      return new RewardServer(server, scorer, health, metrics);
    } catch (IOException | RuntimeException e) {
      if (metrics != null) {
        metrics.close();
      }
      closeQuietly(scorer);
      throw e;
    }
  }

  /**
   * RewardService behind its interceptors: the metrics one outermost, so calls the token check
   * turns away are counted too.
   */
  private static ServerServiceDefinition rewardService(
      RewardService service, RewardServerOptions options, RpcMetricsInterceptor rpcMetrics)
      throws IOException {
    if (options.tokenFile() != null) {
      String token = Files.readString(options.tokenFile()).strip();
      return ServerInterceptors.intercept(service, new BearerTokenInterceptor(token), rpcMetrics);
    }
    if (!InetAddress.getByName(options.bind()).isLoopbackAddress()) {
      LOG.warn(
          "listening on {} without a bearer token: anyone who can reach it can score",
          options.bind());
    }
    return ServerInterceptors.intercept(service, rpcMetrics);
  }

  private static ServerCredentials credentials(RewardServerOptions options) throws IOException {
    if (options.tlsCert() == null) {
      return InsecureServerCredentials.create();
    }
    return TlsServerCredentials.create(options.tlsCert().toFile(), options.tlsKey().toFile());
  }

  /** The port actually bound (useful after asking for port 0). */
  public int port() {
    return server.getPort();
  }

  /**
   * The port of the Prometheus {@code /metrics} endpoint, or {@link
   * RewardServerOptions#METRICS_OFF}.
   */
  public int metricsPort() {
    return metrics == null ? RewardServerOptions.METRICS_OFF : metrics.port();
  }

  /** Blocks until the server shuts down. */
  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  /**
   * Reports NOT_SERVING, stops accepting calls, lets running ones finish briefly, stops the metrics
   * endpoint, then frees the model.
   */
  @Override
  public void close() {
    health.enterTerminalState();
    server.shutdown();
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    }
    if (metrics != null) {
      metrics.close();
    }
    closeQuietly(scorer);
  }

  private static void closeQuietly(RewardScorer scorer) {
    try {
      scorer.close();
    } catch (OrtException e) {
      LOG.warn("closing the model failed", e);
    }
  }
}

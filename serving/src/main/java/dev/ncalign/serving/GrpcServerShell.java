package dev.ncalign.serving;

import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
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
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One service on a Netty gRPC server, with what both servers put around it: the standard health and
 * reflection services, TLS when configured, requests parsed in the call (a malformed message is
 * INVALID_ARGUMENT, see {@link RequestParsing}), an optional bearer token, RPC metrics, and
 * Prometheus {@code GET /metrics} on a port of its own.
 */
public final class GrpcServerShell implements AutoCloseable {

  private final Server server;
  private final HealthStatusManager health;
  private final Duration grace;

  /** Null when metrics are off. */
  private final MetricsHttpServer metrics;

  private GrpcServerShell(
      Server server, HealthStatusManager health, Duration grace, MetricsHttpServer metrics) {
    this.server = server;
    this.health = health;
    this.grace = grace;
    this.metrics = metrics;
  }

  /**
   * A registry for a server's meters, with the JVM's memory pools. Meters are recorded even when
   * nobody scrapes them: an update costs nothing next to a model run, and one code path is simpler
   * than two.
   */
  public static PrometheusMeterRegistry newMeterRegistry() {
    PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(meters);
    return meters;
  }

  /**
   * Binds and starts serving {@code service}; reports SERVING for it and for the server as a whole.
   *
   * @param token the bearer-token check, or null for none
   * @param rpcMetrics where calls are counted; outermost, so calls the token check turns away are
   *     counted too
   * @param meters what {@code GET /metrics} serves
   * @param grace how long {@link #close()} lets running calls finish
   * @throws UncheckedIOException if a port cannot be bound or the TLS files cannot be read
   */
  public static GrpcServerShell start(
      ShellOptions options,
      ServerServiceDefinition service,
      BearerTokenInterceptor token,
      RpcMetricsInterceptor rpcMetrics,
      PrometheusMeterRegistry meters,
      Duration grace) {
    InetAddress address = options.address();
    List<ServerInterceptor> interceptors = new ArrayList<>();
    if (token != null) {
      interceptors.add(token);
    }
    interceptors.add(rpcMetrics); // the last one added runs first
    HealthStatusManager health = new HealthStatusManager();
    Server server =
        NettyServerBuilder.forAddress(
                new InetSocketAddress(address, options.port()), credentials(options))
            .maxInboundMessageSize(options.maxInboundMessageBytes())
            .addService(
                ServerInterceptors.intercept(RequestParsing.parseInCall(service), interceptors))
            .addService(health.getHealthService())
            .addService(ProtoReflectionServiceV1.newInstance())
            .build();
    MetricsHttpServer metrics = null;
    try {
      if (options.metricsPort() >= 0) {
        metrics = MetricsHttpServer.start(meters, address, options.metricsPort());
      }
      listen(server, options);
    } catch (RuntimeException e) {
      if (metrics != null) {
        metrics.close();
      }
      throw e;
    }
    health.setStatus("", ServingStatus.SERVING);
    health.setStatus(service.getServiceDescriptor().getName(), ServingStatus.SERVING);
    return new GrpcServerShell(server, health, grace, metrics);
  }

  private static void listen(Server server, ShellOptions options) {
    try {
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot listen on " + options.bind() + ":" + options.port(), e);
    }
  }

  private static ServerCredentials credentials(ShellOptions options) {
    if (options.tlsCert() == null) {
      return InsecureServerCredentials.create();
    }
    try {
      return TlsServerCredentials.create(options.tlsCert().toFile(), options.tlsKey().toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(
          "--tls-cert/--tls-key: cannot read " + options.tlsCert() + " or " + options.tlsKey(), e);
    }
  }

  /** The port actually bound (the real one when 0 was asked for). */
  public int port() {
    return server.getPort();
  }

  /** The port of {@code GET /metrics}, or {@link ShellOptions#METRICS_OFF}. */
  public int metricsPort() {
    return metrics == null ? ShellOptions.METRICS_OFF : metrics.port();
  }

  /** Blocks until the server shuts down. */
  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  /**
   * Reports NOT_SERVING, stops accepting calls, lets running ones finish for the grace period,
   * cancels the rest, stops the metrics endpoint.
   */
  @Override
  public void close() {
    health.enterTerminalState();
    server.shutdown();
    try {
      if (!server.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    }
    if (metrics != null) {
      metrics.close();
    }
  }
}

package dev.ncalign.policy.serving;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.policy.metrics.MetricsHttpServer;
import dev.ncalign.policy.metrics.PolicyMetrics;
import dev.ncalign.policy.metrics.RpcMetricsInterceptor;
import dev.ncalign.proto.v1.PolicyServiceGrpc;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
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
import java.nio.file.Files;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running policy server: PolicyService plus gRPC health and reflection, over Netty, and
 * optionally Prometheus {@code /metrics} over HTTP on a port of its own. Startable in-process so
 * tests and the project's CLI can run it without a separate JVM.
 */
public final class PolicyServer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(PolicyServer.class);

  private final Server server;
  private final PolicyRegistry registry;
  private final HealthStatusManager health;

  /** Null when metrics are off. */
  private final MetricsHttpServer metrics;

  private PolicyServer(
      Server server,
      PolicyRegistry registry,
      HealthStatusManager health,
      MetricsHttpServer metrics) {
    this.server = server;
    this.registry = registry;
    this.health = health;
    this.metrics = metrics;
  }

  /** Loads the model, binds, and starts serving. */
  public static PolicyServer start(PolicyServerOptions options) {
    InetAddress address = resolve(options.bind());
    String token = readToken(options, address);
    CausalLm model =
        CausalLm.load(options.modelDir(), resolveDevice(options.device()), options.dtype());
    PolicyRegistry registry = new PolicyRegistry(model);
    // Recorded even when nobody scrapes them: a meter update costs nothing next to a forward pass,
    // and
    // one code path is simpler than two.
    PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(meters);
    Policy policy =
        new Policy(
            registry,
            options.limits(),
            options.modelDir().toAbsolutePath().toString(),
            new PolicyMetrics(meters, registry::liveVersion));
    HealthStatusManager health = new HealthStatusManager();
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(new InetSocketAddress(address, options.port()))
            .maxInboundMessageSize(options.maxInboundMessageBytes())
            .addService(policyService(policy, token, new RpcMetricsInterceptor(meters)))
            .addService(health.getHealthService())
            .addService(ProtoReflectionServiceV1.newInstance());
    if (options.tlsCertChain() != null) {
      builder.useTransportSecurity(
          options.tlsCertChain().toFile(), options.tlsPrivateKey().toFile());
    }
    Server server = builder.build();
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
      registry.close();
      throw e;
    }
    health.setStatus("", ServingStatus.SERVING);
    health.setStatus(PolicyServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
    LOG.info(
        "serving {} ({} parameters, {}) on {}:{}, device {}{}",
        options.modelDir(),
        model.parameterCount(),
        model.dtype(),
        address.getHostAddress(),
        server.getPort(),
        model.manager().getDevice(),
        metrics == null ? "" : ", metrics on port " + metrics.port());
    return new PolicyServer(server, registry, health, metrics);
  }

  /**
   * PolicyService behind its interceptors: the metrics one outermost, so calls the token check
   * turns away are counted too.
   */
  private static ServerServiceDefinition policyService(
      Policy policy, String token, RpcMetricsInterceptor rpcMetrics) {
    ServerServiceDefinition service = new PolicyGrpcService(policy).bindService();
    if (token != null) {
      service =
          ServerInterceptors.intercept(
              service,
              new BearerTokenInterceptor(
                  token, Set.of(PolicyServiceGrpc.getPushWeightsMethod().getFullMethodName())));
    }
    return ServerInterceptors.intercept(service, rpcMetrics);
  }

  /** The bound port (the real one when 0 was asked for). */
  public int port() {
    return server.getPort();
  }

  /**
   * The port of the Prometheus {@code /metrics} endpoint, or {@link
   * PolicyServerOptions#METRICS_OFF}.
   */
  public int metricsPort() {
    return metrics == null ? PolicyServerOptions.METRICS_OFF : metrics.port();
  }

  /** The weight versions, for in-process inspection. */
  public PolicyRegistry registry() {
    return registry;
  }

  /** Blocks until the server shuts down. */
  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  /**
   * Stops accepting calls, lets running ones finish (up to 30 s), stops the metrics endpoint, frees
   * the model.
   */
  @Override
  public void close() {
    health.enterTerminalState();
    server.shutdown();
    try {
      if (!server.awaitTermination(30, TimeUnit.SECONDS)) {
        server.shutdownNow();
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    }
    if (metrics != null) {
      metrics.close();
    }
    registry.close();
  }

  /**
   * {@code auto}: DJL's default device (a GPU when one is visible); {@code cpu}; {@code gpu}: GPU
   * 0.
   */
  public static Device resolveDevice(String device) {
    return switch (device.toLowerCase(Locale.ROOT)) {
      case "auto" -> Engine.getInstance().defaultDevice();
      case "cpu" -> Device.cpu();
      case "gpu" -> {
        if (Engine.getInstance().getGpuCount() == 0) {
          throw new IllegalArgumentException(
              "--device gpu: DJL sees no GPU (CPU libtorch on the classpath?)");
        }
        yield Device.gpu();
      }
      default ->
          throw new IllegalArgumentException("--device must be auto, cpu or gpu, got " + device);
    };
  }

  private static void listen(Server server, PolicyServerOptions options) {
    try {
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot listen on " + options.bind() + ":" + options.port(), e);
    }
  }

  private static InetAddress resolve(String bind) {
    try {
      return InetAddress.getByName(bind);
    } catch (IOException e) {
      throw new IllegalArgumentException("--bind: cannot resolve " + bind, e);
    }
  }

  /**
   * The PushWeights token; mandatory when listening beyond loopback, since a push replaces the
   * model.
   */
  private static String readToken(PolicyServerOptions options, InetAddress address) {
    if (options.pushTokenFile() == null) {
      if (!address.isLoopbackAddress()) {
        throw new IllegalArgumentException(
            "--push-token-file is required when binding beyond loopback (" + options.bind() + ")");
      }
      return null;
    }
    try {
      String token = Files.readString(options.pushTokenFile()).trim();
      if (token.isEmpty()) {
        throw new IllegalArgumentException(
            "--push-token-file " + options.pushTokenFile() + " is empty");
      }
      return token;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + options.pushTokenFile(), e);
    }
  }
}

package dev.ncalign.policy.serving;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.ncalign.lm.chat.ChatPromptEncoder;
import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.policy.metrics.PolicyMetrics;
import dev.ncalign.policy.scheduling.RunQueue;
import dev.ncalign.policy.scheduling.SwapPriorityGate;
import dev.ncalign.policy.scheduling.WorkScheduler;
import dev.ncalign.proto.v1.PolicyServiceGrpc;
import dev.ncalign.serving.BearerTokenInterceptor;
import dev.ncalign.serving.GrpcServerShell;
import dev.ncalign.serving.RpcMetricsInterceptor;
import dev.ncalign.serving.ShellOptions;
import dev.ncalign.serving.ShellServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running policy server: {@link PolicyGrpcService} in the {@link GrpcServerShell} (health,
 * reflection, TLS, the PushWeights token, metrics). Startable in-process so tests and the project's
 * CLI can run it without a separate JVM.
 */
public final class PolicyServer extends ShellServer {

  private static final Logger LOG = LoggerFactory.getLogger(PolicyServer.class);

  /** A Generate with many samples can take a while; let it finish on shutdown. */
  private static final Duration GRACE = Duration.ofSeconds(30);

  private final PolicyRegistry registry;
  private final ChatPromptEncoder chat;

  private PolicyServer(GrpcServerShell shell, PolicyRegistry registry, ChatPromptEncoder chat) {
    super(shell);
    this.registry = registry;
    this.chat = chat;
  }

  /** Loads the model, binds, and starts serving. */
  public static PolicyServer start(PolicyServerOptions options) {
    ShellOptions listen = options.shell();
    BearerTokenInterceptor token = pushToken(options, listen.address());
    CausalLm model =
        CausalLm.load(options.modelDir(), resolveDevice(options.device()), options.dtype());
    ChatPromptEncoder chat;
    try {
      // Once per model: the first template of a JVM costs seconds of CPU.
      chat = ChatPromptEncoder.load(options.modelDir());
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
    PolicyRegistry registry = new PolicyRegistry(model);
    PrometheusMeterRegistry meters = GrpcServerShell.newMeterRegistry();
    PolicyMetrics metrics = new PolicyMetrics(meters, registry::liveVersion);
    RunQueue queue = new RunQueue(options.maxRunningRequests());
    metrics.watchQueue(queue::waiting, queue::running);
    Policy policy =
        new Policy(
            registry,
            options.limits(),
            options.modelDir().toAbsolutePath().toString(),
            metrics,
            chat,
            new WorkScheduler(queue, SwapPriorityGate.withDefaultStall(), metrics));
    GrpcServerShell shell;
    try {
      shell =
          GrpcServerShell.start(
              listen,
              new PolicyGrpcService(policy).bindService(),
              token,
              new RpcMetricsInterceptor(meters, "ncalign.policy.server", "PolicyService"),
              meters,
              GRACE);
    } catch (RuntimeException e) {
      registry.close();
      chat.close();
      throw e;
    }
    LOG.info(
        "serving {} ({} parameters, {}{}, {} running requests at most) on {}:{}, device {}{}",
        options.modelDir(),
        model.parameterCount(),
        model.dtype(),
        chat.available() ? ", chat template" : "",
        options.maxRunningRequests(),
        listen.bind(),
        shell.port(),
        model.manager().getDevice(),
        shell.metricsPort() == ShellOptions.METRICS_OFF
            ? ""
            : ", metrics on port " + shell.metricsPort());
    return new PolicyServer(shell, registry, chat);
  }

  /**
   * The PushWeights token check; mandatory when listening beyond loopback, since a push replaces
   * the model. Other calls need no token.
   */
  private static BearerTokenInterceptor pushToken(
      PolicyServerOptions options, InetAddress address) {
    if (options.pushTokenFile() == null) {
      if (!address.isLoopbackAddress()) {
        throw new IllegalArgumentException(
            "--push-token-file is required when binding beyond loopback ("
                + options.shell().bind()
                + ")");
      }
      return null;
    }
    return BearerTokenInterceptor.fromFile(
        options.pushTokenFile(),
        "--push-token-file",
        Set.of(PolicyServiceGrpc.getPushWeightsMethod().getFullMethodName()));
  }

  /** The weight versions, for in-process inspection. */
  public PolicyRegistry registry() {
    return registry;
  }

  /**
   * Stops accepting calls, lets running ones finish (up to 30 s), stops the metrics endpoint, frees
   * the model and its chat template.
   */
  @Override
  public void close() {
    shell.close();
    registry.close();
    chat.close();
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
}

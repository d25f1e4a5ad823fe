package dev.ncalign.reward.serving;

import ai.onnxruntime.OrtException;
import dev.ncalign.reward.metrics.RewardMetrics;
import dev.ncalign.reward.model.RewardModelConfig;
import dev.ncalign.serving.BearerTokenInterceptor;
import dev.ncalign.serving.GrpcServerShell;
import dev.ncalign.serving.RpcMetricsInterceptor;
import dev.ncalign.serving.ShellOptions;
import dev.ncalign.serving.ShellServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running reward server: {@link RewardGrpcService} in the {@link GrpcServerShell} (health,
 * reflection, TLS, the bearer token, metrics). Tests and the orchestrator can run it in-process;
 * {@link dev.ncalign.reward.Main} runs it from the command line.
 */
public final class RewardServer extends ShellServer {

  private static final Logger LOG = LoggerFactory.getLogger(RewardServer.class);

  /** Score calls are short; a stuck one should not hold up shutdown. */
  private static final Duration GRACE = Duration.ofSeconds(5);

  private final RewardScorer scorer;

  private RewardServer(GrpcServerShell shell, RewardScorer scorer) {
    super(shell);
    this.scorer = scorer;
  }

  /**
   * Loads the model and starts listening.
   *
   * @throws IllegalArgumentException if the model or settings cannot be served (the message names
   *     why)
   * @throws IOException if the model cannot be read
   * @throws java.io.UncheckedIOException if a port cannot be bound
   */
  public static RewardServer start(RewardServerOptions options) throws IOException {
    ShellOptions listen = options.shell();
    BearerTokenInterceptor token = token(options);
    RewardModelConfig settings =
        options.resolve(
            RewardModelConfig.read(options.modelDir()).orElse(RewardModelConfig.DEFAULTS));
    PrometheusMeterRegistry meters = GrpcServerShell.newMeterRegistry();
    RewardScorer scorer;
    try {
      scorer =
          RewardScorer.open(
              options.modelDir(),
              settings.inputFormat(),
              settings.labelIndex(),
              settings.maxLength(),
              options.limits().maxBatchSize(),
              Duration.ofMillis(options.limits().maxWaitMs()),
              new RewardMetrics(meters));
    } catch (OrtException e) {
      throw new IOException(
          "ONNX Runtime could not load " + options.modelDir() + ": " + e.getMessage(), e);
    }
    GrpcServerShell shell;
    try {
      RewardGrpcService service =
          new RewardGrpcService(
              scorer,
              new ScoreRequestValidator(options.limits().maxItems(), options.limits().text()));
      shell =
          GrpcServerShell.start(
              listen,
              service.bindService(),
              token,
              new RpcMetricsInterceptor(meters, "ncalign.reward.server", "RewardService"),
              meters,
              GRACE);
    } catch (RuntimeException e) {
      closeQuietly(scorer);
      throw e;
    }
    LOG.info(
        "reward server on {}:{} serving {} ({}, label {}, max_length {}){}",
        listen.bind(),
        shell.port(),
        options.modelDir(),
        settings.inputFormat(),
        settings.labelIndex(),
        settings.maxLength(),
        shell.metricsPort() == ShellOptions.METRICS_OFF
            ? ""
            : ", metrics on port " + shell.metricsPort());
    return new RewardServer(shell, scorer);
  }

  /** Every RewardService call needs the token when a token file is given. */
  private static BearerTokenInterceptor token(RewardServerOptions options) {
    if (options.tokenFile() == null) {
      if (!options.shell().address().isLoopbackAddress()) {
        LOG.warn(
            "listening on {} without a bearer token: anyone who can reach it can score",
            options.shell().bind());
      }
      return null;
    }
    return BearerTokenInterceptor.fromFile(options.tokenFile(), "--token-file", Set.of());
  }

  /**
   * Reports NOT_SERVING, stops accepting calls, lets running ones finish briefly, stops the metrics
   * endpoint, then frees the model.
   */
  @Override
  public void close() {
    shell.close();
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

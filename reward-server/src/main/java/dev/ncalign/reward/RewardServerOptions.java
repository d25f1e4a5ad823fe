package dev.ncalign.reward;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Everything {@link RewardServer#start} needs. Model settings left null ({@code inputFormat},
 * {@code labelIndex}, {@code maxLength}) come from the model directory's {@code
 * reward_config.json}, or from {@link RewardModelConfig#DEFAULTS} when it has none.
 *
 * @param modelDir directory with model.onnx and tokenizer.json
 * @param bind address to listen on; 127.0.0.1 unless the caller opens it up deliberately
 * @param port TCP port; 0 picks a free one (see {@link RewardServer#port()})
 * @param inputFormat how pairs become input, or null
 * @param labelIndex logits column that is the reward, or null
 * @param maxLength longest input in tokens, or null
 * @param maxBatchSize most items in one model run
 * @param maxWaitMs longest an item waits for its batch to fill
 * @param maxItems most items in one Score call
 * @param maxChars most characters in one prompt or response
 * @param maxMessageBytes largest inbound gRPC message
 * @param tokenFile file holding a bearer token that every RewardService call must present, or null
 * @param tlsCert PEM certificate chain for TLS, or null for plaintext
 * @param tlsKey PEM private key for TLS, or null
 * @param metricsPort HTTP port of the Prometheus {@code /metrics} endpoint on {@code bind}: 0 for
 *     any free one, {@link #METRICS_OFF} (or any negative) for none
 */
public record RewardServerOptions(
    Path modelDir,
    String bind,
    int port,
    InputFormat inputFormat,
    Integer labelIndex,
    Integer maxLength,
    int maxBatchSize,
    int maxWaitMs,
    int maxItems,
    int maxChars,
    int maxMessageBytes,
    Path tokenFile,
    Path tlsCert,
    Path tlsKey,
    int metricsPort) {

  /** Loopback only, unless asked otherwise. */
  public static final String DEFAULT_BIND = "127.0.0.1";

  /** {@link #metricsPort()} for no metrics endpoint, the default. */
  public static final int METRICS_OFF = -1;

  /** Default {@link #maxBatchSize()}. */
  public static final int DEFAULT_MAX_BATCH_SIZE = 32;

  /** Default {@link #maxWaitMs()}. */
  public static final int DEFAULT_MAX_WAIT_MS = 5;

  /** Default {@link #maxItems()}. */
  public static final int DEFAULT_MAX_ITEMS = 1024;

  /** Default {@link #maxChars()}. */
  public static final int DEFAULT_MAX_CHARS = 16_384;

  /** Default {@link #maxMessageBytes()}. */
  public static final int DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

  /** Checks the values. */
  public RewardServerOptions {
    Objects.requireNonNull(modelDir, "modelDir");
    Objects.requireNonNull(bind, "bind");
    positive("max batch size", maxBatchSize);
    positive("max items", maxItems);
    positive("max chars", maxChars);
    positive("max message bytes", maxMessageBytes);
    if (maxWaitMs < 0 || port < 0 || port > 65535) {
      throw new IllegalArgumentException("max wait ms must be >= 0 and port in 0..65535");
    }
    if (metricsPort > 65535) {
      throw new IllegalArgumentException("metrics port must be at most 65535, got " + metricsPort);
    }
    if ((tlsCert == null) != (tlsKey == null)) {
      throw new IllegalArgumentException("TLS needs both a certificate and a key");
    }
  }

  /**
   * Defaults for everything but the model directory: loopback, a free port, settings from the model
   * dir, no metrics endpoint.
   */
  public static RewardServerOptions defaults(Path modelDir) {
    return new RewardServerOptions(
        modelDir,
        DEFAULT_BIND,
        0,
        null,
        null,
        null,
        DEFAULT_MAX_BATCH_SIZE,
        DEFAULT_MAX_WAIT_MS,
        DEFAULT_MAX_ITEMS,
        DEFAULT_MAX_CHARS,
        DEFAULT_MAX_MESSAGE_BYTES,
        null,
        null,
        null,
        METRICS_OFF);
  }

  /** A copy with another port. */
  public RewardServerOptions withPort(int newPort) {
    return new RewardServerOptions(
        modelDir,
        bind,
        newPort,
        inputFormat,
        labelIndex,
        maxLength,
        maxBatchSize,
        maxWaitMs,
        maxItems,
        maxChars,
        maxMessageBytes,
        tokenFile,
        tlsCert,
        tlsKey,
        metricsPort);
  }

  /** A copy with other batching limits. */
  public RewardServerOptions withBatching(int newMaxBatchSize, int newMaxWaitMs) {
    return new RewardServerOptions(
        modelDir,
        bind,
        port,
        inputFormat,
        labelIndex,
        maxLength,
        newMaxBatchSize,
        newMaxWaitMs,
        maxItems,
        maxChars,
        maxMessageBytes,
        tokenFile,
        tlsCert,
        tlsKey,
        metricsPort);
  }

  /** A copy with other request limits. */
  public RewardServerOptions withRequestLimits(int newMaxItems, int newMaxChars) {
    return new RewardServerOptions(
        modelDir,
        bind,
        port,
        inputFormat,
        labelIndex,
        maxLength,
        maxBatchSize,
        maxWaitMs,
        newMaxItems,
        newMaxChars,
        maxMessageBytes,
        tokenFile,
        tlsCert,
        tlsKey,
        metricsPort);
  }

  /** A copy with other model settings (null: from the model directory). */
  public RewardServerOptions withModelSettings(
      InputFormat newFormat, Integer newLabelIndex, Integer newMaxLength) {
    return new RewardServerOptions(
        modelDir,
        bind,
        port,
        newFormat,
        newLabelIndex,
        newMaxLength,
        maxBatchSize,
        maxWaitMs,
        maxItems,
        maxChars,
        maxMessageBytes,
        tokenFile,
        tlsCert,
        tlsKey,
        metricsPort);
  }

  /** A copy requiring the bearer token in {@code file} (null: no token). */
  public RewardServerOptions withTokenFile(Path file) {
    return new RewardServerOptions(
        modelDir,
        bind,
        port,
        inputFormat,
        labelIndex,
        maxLength,
        maxBatchSize,
        maxWaitMs,
        maxItems,
        maxChars,
        maxMessageBytes,
        file,
        tlsCert,
        tlsKey,
        metricsPort);
  }

  /** A copy serving TLS with this PEM certificate chain and private key (both null: plaintext). */
  public RewardServerOptions withTls(Path certificate, Path privateKey) {
    return new RewardServerOptions(
        modelDir,
        bind,
        port,
        inputFormat,
        labelIndex,
        maxLength,
        maxBatchSize,
        maxWaitMs,
        maxItems,
        maxChars,
        maxMessageBytes,
        tokenFile,
        certificate,
        privateKey,
        metricsPort);
  }

  /**
   * A copy serving Prometheus metrics on {@code newMetricsPort} (0: any free port; negative: none).
   */
  public RewardServerOptions withMetricsPort(int newMetricsPort) {
    return new RewardServerOptions(
        modelDir,
        bind,
        port,
        inputFormat,
        labelIndex,
        maxLength,
        maxBatchSize,
        maxWaitMs,
        maxItems,
        maxChars,
        maxMessageBytes,
        tokenFile,
        tlsCert,
        tlsKey,
        newMetricsPort);
  }

  /** These options' model settings over {@code config}'s. */
  RewardModelConfig resolve(RewardModelConfig config) {
    return new RewardModelConfig(
        inputFormat != null ? inputFormat.templateOrNull() : config.template(),
        labelIndex != null ? labelIndex : config.labelIndex(),
        maxLength != null ? maxLength : config.maxLength());
  }

  private static void positive(String name, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(name + " must be at least 1, got " + value);
    }
  }
}

package dev.ncalign.reward.serving;

import dev.ncalign.reward.model.InputFormat;
import dev.ncalign.reward.model.RewardModelConfig;
import dev.ncalign.serving.ShellOptions;
import dev.ncalign.serving.TextLimit;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Everything {@link RewardServer#start} needs. Model settings left null ({@code inputFormat},
 * {@code labelIndex}, {@code maxLength}) come from the model directory's {@code
 * reward_config.json}, or from {@link RewardModelConfig#DEFAULTS} when it has none.
 *
 * @param modelDir directory with model.onnx and tokenizer.json
 * @param inputFormat how pairs become input, or null
 * @param labelIndex logits column that is the reward, or null
 * @param maxLength longest input in tokens, or null
 * @param maxBatchSize most items in one model run
 * @param maxWaitMs longest an item waits for its batch to fill
 * @param maxItems most items in one Score call
 * @param text most characters in one prompt or response, checked before tokenizing
 * @param tokenFile file holding a bearer token that every RewardService call must present, or null
 * @param shell how the server listens: address, port, message size, TLS, metrics port
 */
public record RewardServerOptions(
    Path modelDir,
    InputFormat inputFormat,
    Integer labelIndex,
    Integer maxLength,
    int maxBatchSize,
    int maxWaitMs,
    int maxItems,
    TextLimit text,
    Path tokenFile,
    ShellOptions shell) {

  /** Default {@link #maxBatchSize()}. */
  public static final int DEFAULT_MAX_BATCH_SIZE = 32;

  /** Default {@link #maxWaitMs()}. */
  public static final int DEFAULT_MAX_WAIT_MS = 5;

  /** Default {@link #maxItems()}. */
  public static final int DEFAULT_MAX_ITEMS = 1024;

  /** Checks the values; each message names the flag. */
  public RewardServerOptions {
    Objects.requireNonNull(modelDir, "modelDir");
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(shell, "shell");
    positive("--max-batch-size", maxBatchSize);
    positive("--max-items", maxItems);
    if (maxWaitMs < 0) {
      throw new IllegalArgumentException("--max-wait-ms must be >= 0, got " + maxWaitMs);
    }
  }

  /**
   * Defaults for everything but the model directory: loopback, a free port, settings from the model
   * dir, no token, no TLS, no metrics endpoint.
   */
  public static RewardServerOptions defaults(Path modelDir) {
    return new RewardServerOptions(
        modelDir,
        null,
        null,
        null,
        DEFAULT_MAX_BATCH_SIZE,
        DEFAULT_MAX_WAIT_MS,
        DEFAULT_MAX_ITEMS,
        new TextLimit(TextLimit.DEFAULT_MAX_CHARS),
        null,
        ShellOptions.defaults());
  }

  /** A copy listening as {@code value} says. */
  public RewardServerOptions withShell(ShellOptions value) {
    return new RewardServerOptions(
        modelDir,
        inputFormat,
        labelIndex,
        maxLength,
        maxBatchSize,
        maxWaitMs,
        maxItems,
        text,
        tokenFile,
        value);
  }

  /** A copy with other batching limits. */
  public RewardServerOptions withBatching(int newMaxBatchSize, int newMaxWaitMs) {
    return new RewardServerOptions(
        modelDir,
        inputFormat,
        labelIndex,
        maxLength,
        newMaxBatchSize,
        newMaxWaitMs,
        maxItems,
        text,
        tokenFile,
        shell);
  }

  /** A copy with other request limits. */
  public RewardServerOptions withRequestLimits(int newMaxItems, int newMaxChars) {
    return new RewardServerOptions(
        modelDir,
        inputFormat,
        labelIndex,
        maxLength,
        maxBatchSize,
        maxWaitMs,
        newMaxItems,
        new TextLimit(newMaxChars),
        tokenFile,
        shell);
  }

  /** A copy with other model settings (null: from the model directory). */
  public RewardServerOptions withModelSettings(
      InputFormat newFormat, Integer newLabelIndex, Integer newMaxLength) {
    return new RewardServerOptions(
        modelDir,
        newFormat,
        newLabelIndex,
        newMaxLength,
        maxBatchSize,
        maxWaitMs,
        maxItems,
        text,
        tokenFile,
        shell);
  }

  /** A copy requiring the bearer token in {@code file} (null: no token). */
  public RewardServerOptions withTokenFile(Path file) {
    return new RewardServerOptions(
        modelDir,
        inputFormat,
        labelIndex,
        maxLength,
        maxBatchSize,
        maxWaitMs,
        maxItems,
        text,
        file,
        shell);
  }

  /** A copy serving TLS with this PEM certificate chain and private key (both null: plaintext). */
  public RewardServerOptions withTls(Path certificate, Path privateKey) {
    return withShell(shell.withTls(certificate, privateKey));
  }

  /**
   * A copy serving Prometheus metrics on {@code newMetricsPort} (0: any free port; negative: none).
   */
  public RewardServerOptions withMetricsPort(int newMetricsPort) {
    return withShell(shell.withMetricsPort(newMetricsPort));
  }

  /** These options' model settings over {@code config}'s. */
  RewardModelConfig resolve(RewardModelConfig config) {
    return new RewardModelConfig(
        inputFormat != null ? inputFormat.templateOrNull() : config.template(),
        labelIndex != null ? labelIndex : config.labelIndex(),
        maxLength != null ? maxLength : config.maxLength());
  }

  private static void positive(String flag, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(flag + " must be at least 1, got " + value);
    }
  }
}

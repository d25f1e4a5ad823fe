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
 * @param limits batching and request bounds
 * @param tokenFile file holding a bearer token that every RewardService call must present, or null
 * @param shell how the server listens: address, port, message size, TLS, metrics port
 */
public record RewardServerOptions(
    Path modelDir,
    InputFormat inputFormat,
    Integer labelIndex,
    Integer maxLength,
    RewardLimits limits,
    Path tokenFile,
    ShellOptions shell) {

  public RewardServerOptions {
    Objects.requireNonNull(modelDir, "modelDir");
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(shell, "shell");
  }

  /**
   * Defaults for everything but the model directory: loopback, a free port, settings from the model
   * dir, default limits, no token, no TLS, no metrics endpoint.
   */
  public static RewardServerOptions defaults(Path modelDir) {
    return new RewardServerOptions(
        modelDir, null, null, null, RewardLimits.defaults(), null, ShellOptions.defaults());
  }

  /** A copy with other limits. */
  public RewardServerOptions withLimits(RewardLimits value) {
    return new RewardServerOptions(
        modelDir, inputFormat, labelIndex, maxLength, value, tokenFile, shell);
  }

  /** A copy listening as {@code value} says. */
  public RewardServerOptions withShell(ShellOptions value) {
    return new RewardServerOptions(
        modelDir, inputFormat, labelIndex, maxLength, limits, tokenFile, value);
  }

  /** A copy requiring the bearer token in {@code file} (null: no token). */
  public RewardServerOptions withTokenFile(Path file) {
    return new RewardServerOptions(
        modelDir, inputFormat, labelIndex, maxLength, limits, file, shell);
  }

  /** A copy with other model settings (null: from the model directory). */
  public RewardServerOptions withModelSettings(
      InputFormat newFormat, Integer newLabelIndex, Integer newMaxLength) {
    return new RewardServerOptions(
        modelDir, newFormat, newLabelIndex, newMaxLength, limits, tokenFile, shell);
  }

  /** A copy with other batching limits. */
  public RewardServerOptions withBatching(int maxBatchSize, int maxWaitMs) {
    return withLimits(new RewardLimits(maxBatchSize, maxWaitMs, limits.maxItems(), limits.text()));
  }

  /** A copy with other request limits. */
  public RewardServerOptions withRequestLimits(int maxItems, int maxChars) {
    return withLimits(
        new RewardLimits(
            limits.maxBatchSize(), limits.maxWaitMs(), maxItems, new TextLimit(maxChars)));
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
}

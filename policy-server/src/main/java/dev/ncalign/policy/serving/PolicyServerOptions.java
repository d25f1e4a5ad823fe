package dev.ncalign.policy.serving;

import dev.ncalign.serving.ShellOptions;
import dev.ncalign.serving.TextLimit;
import java.nio.file.Path;

/**
 * How to run a policy server.
 *
 * @param modelDir Hugging Face model directory to serve
 * @param device {@code auto} (GPU when DJL sees one), {@code cpu} or {@code gpu}
 * @param dtype weights' type: {@code auto} (config.json's {@code torch_dtype} on a GPU, float32 on
 *     a CPU), {@code float32}, {@code bfloat16} or {@code float16}
 * @param limits request bounds reported by GetInfo
 * @param pushTokenFile file holding the bearer token PushWeights requires, or null (allowed on
 *     loopback only)
 * @param shell how the server listens: address, port, message size, TLS, metrics port
 * @param maxRunningRequests Generate and ComputeLogprobs calls running model work at once; more
 *     wait in a queue
 */
public record PolicyServerOptions(
    Path modelDir,
    String device,
    String dtype,
    PolicyLimits limits,
    Path pushTokenFile,
    ShellOptions shell,
    int maxRunningRequests) {

  public PolicyServerOptions {
    if (maxRunningRequests < 1) {
      throw new IllegalArgumentException(
          "--max-running-requests must be ≥ 1, got " + maxRunningRequests);
    }
  }

  /** As many running requests as cores: more decode loops than cores only contend. */
  public static int defaultMaxRunningRequests() {
    return Runtime.getRuntime().availableProcessors();
  }

  /**
   * Loopback, a free port, automatic device, modest limits, no auth, no TLS, no metrics endpoint.
   */
  public static PolicyServerOptions defaults(Path modelDir) {
    return new PolicyServerOptions(
        modelDir,
        "auto",
        "auto",
        new PolicyLimits(16, 64, 128, 16L << 30, new TextLimit(TextLimit.DEFAULT_MAX_CHARS)),
        null,
        ShellOptions.defaults(),
        defaultMaxRunningRequests());
  }

  public PolicyServerOptions withLimits(PolicyLimits value) {
    return new PolicyServerOptions(
        modelDir, device, dtype, value, pushTokenFile, shell, maxRunningRequests);
  }

  public PolicyServerOptions withPushTokenFile(Path value) {
    return new PolicyServerOptions(
        modelDir, device, dtype, limits, value, shell, maxRunningRequests);
  }

  public PolicyServerOptions withDtype(String value) {
    return new PolicyServerOptions(
        modelDir, device, value, limits, pushTokenFile, shell, maxRunningRequests);
  }

  public PolicyServerOptions withShell(ShellOptions value) {
    return new PolicyServerOptions(
        modelDir, device, dtype, limits, pushTokenFile, value, maxRunningRequests);
  }

  public PolicyServerOptions withMaxRunningRequests(int value) {
    return new PolicyServerOptions(modelDir, device, dtype, limits, pushTokenFile, shell, value);
  }

  public PolicyServerOptions withBind(String value) {
    return withShell(shell.withBind(value));
  }

  public PolicyServerOptions withMetricsPort(int value) {
    return withShell(shell.withMetricsPort(value));
  }
}

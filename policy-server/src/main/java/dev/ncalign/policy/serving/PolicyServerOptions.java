package dev.ncalign.policy.serving;

import java.nio.file.Path;

/**
 * How to run a policy server.
 *
 * @param modelDir Hugging Face model directory to serve
 * @param bind address to listen on; PushWeights needs a token file beyond loopback
 * @param port TCP port, 0 for any free one
 * @param device {@code auto} (GPU when DJL sees one), {@code cpu} or {@code gpu}
 * @param dtype weights' type: {@code auto} (config.json's {@code torch_dtype} on a GPU, float32 on
 *     a CPU), {@code float32}, {@code bfloat16} or {@code float16}
 * @param limits request bounds reported by GetInfo
 * @param maxInboundMessageBytes largest gRPC message accepted (a PushWeights data chunk, a request)
 * @param pushTokenFile file holding the bearer token PushWeights requires, or null
 * @param tlsCertChain PEM certificate chain for TLS, or null for plaintext
 * @param tlsPrivateKey PEM private key for TLS, or null
 * @param metricsPort HTTP port of the Prometheus {@code /metrics} endpoint on the same address: 0
 *     for any free one, {@link #METRICS_OFF} for none
 */
public record PolicyServerOptions(
    Path modelDir,
    String bind,
    int port,
    String device,
    String dtype,
    PolicyLimits limits,
    int maxInboundMessageBytes,
    Path pushTokenFile,
    Path tlsCertChain,
    Path tlsPrivateKey,
    int metricsPort) {

  public static final int DEFAULT_MAX_INBOUND_BYTES = 32 << 20;

  /**
   * {@link #metricsPort()} when no metrics endpoint is wanted; any negative port means the same.
   */
  public static final int METRICS_OFF = -1;

  public PolicyServerOptions {
    if ((tlsCertChain == null) != (tlsPrivateKey == null)) {
      throw new IllegalArgumentException("TLS needs both a certificate chain and a private key");
    }
  }

  /**
   * Loopback, a free port, automatic device, modest limits, no auth, no TLS, no metrics endpoint.
   */
  public static PolicyServerOptions defaults(Path modelDir) {
    return new PolicyServerOptions(
        modelDir,
        "127.0.0.1",
        0,
        "auto",
        "auto",
        new PolicyLimits(16, 64, 128, 16L << 30),
        DEFAULT_MAX_INBOUND_BYTES,
        null,
        null,
        null,
        METRICS_OFF);
  }

  public PolicyServerOptions withLimits(PolicyLimits value) {
    return new PolicyServerOptions(
        modelDir,
        bind,
        port,
        device,
        dtype,
        value,
        maxInboundMessageBytes,
        pushTokenFile,
        tlsCertChain,
        tlsPrivateKey,
        metricsPort);
  }

  public PolicyServerOptions withPushTokenFile(Path value) {
    return new PolicyServerOptions(
        modelDir,
        bind,
        port,
        device,
        dtype,
        limits,
        maxInboundMessageBytes,
        value,
        tlsCertChain,
        tlsPrivateKey,
        metricsPort);
  }

  public PolicyServerOptions withBind(String value) {
    return new PolicyServerOptions(
        modelDir,
        value,
        port,
        device,
        dtype,
        limits,
        maxInboundMessageBytes,
        pushTokenFile,
        tlsCertChain,
        tlsPrivateKey,
        metricsPort);
  }

  public PolicyServerOptions withDtype(String value) {
    return new PolicyServerOptions(
        modelDir,
        bind,
        port,
        device,
        value,
        limits,
        maxInboundMessageBytes,
        pushTokenFile,
        tlsCertChain,
        tlsPrivateKey,
        metricsPort);
  }

  public PolicyServerOptions withMetricsPort(int value) {
    return new PolicyServerOptions(
        modelDir,
        bind,
        port,
        device,
        dtype,
        limits,
        maxInboundMessageBytes,
        pushTokenFile,
        tlsCertChain,
        tlsPrivateKey,
        value);
  }
}

package dev.ncalign.serving;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;

/**
 * How a server listens, the same for both servers.
 *
 * @param bind address to listen on; 127.0.0.1 unless the caller opens it up deliberately
 * @param port TCP port, 0 for any free one
 * @param maxInboundMessageBytes largest gRPC message accepted
 * @param tlsCert PEM certificate chain for TLS, or null for plaintext
 * @param tlsKey PEM private key for TLS, or null
 * @param metricsPort HTTP port of the Prometheus {@code /metrics} endpoint on the same address: 0
 *     for any free one, {@link #METRICS_OFF} (or any negative) for none
 */
public record ShellOptions(
    String bind, int port, int maxInboundMessageBytes, Path tlsCert, Path tlsKey, int metricsPort) {

  /** Loopback only, unless asked otherwise. */
  public static final String DEFAULT_BIND = "127.0.0.1";

  /** {@link #metricsPort()} for no metrics endpoint, the default. */
  public static final int METRICS_OFF = -1;

  /** Default {@link #maxInboundMessageBytes()}: 64 MiB (a full Score call of long texts fits). */
  public static final int DEFAULT_MAX_INBOUND_MESSAGE_BYTES = 64 << 20;

  /** Checks the values; each message names the flag. */
  public ShellOptions {
    if (bind == null || bind.isBlank()) {
      throw new IllegalArgumentException("--bind must name an address");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("--port must be in 0..65535, got " + port);
    }
    if (metricsPort > 65535) {
      throw new IllegalArgumentException(
          "--metrics-port must be at most 65535, got " + metricsPort);
    }
    if (maxInboundMessageBytes < 1) {
      throw new IllegalArgumentException(
          "--max-inbound-message-bytes must be at least 1, got " + maxInboundMessageBytes);
    }
    if ((tlsCert == null) != (tlsKey == null)) {
      throw new IllegalArgumentException("TLS needs both --tls-cert and --tls-key");
    }
  }

  /** Loopback, a free port, 64 MiB messages, plaintext, no metrics endpoint. */
  public static ShellOptions defaults() {
    return new ShellOptions(
        DEFAULT_BIND, 0, DEFAULT_MAX_INBOUND_MESSAGE_BYTES, null, null, METRICS_OFF);
  }

  /** The {@link #bind()} address, resolved. */
  public InetAddress address() {
    try {
      return InetAddress.getByName(bind);
    } catch (IOException e) {
      throw new IllegalArgumentException("--bind: cannot resolve " + bind, e);
    }
  }

  public ShellOptions withBind(String value) {
    return new ShellOptions(value, port, maxInboundMessageBytes, tlsCert, tlsKey, metricsPort);
  }

  public ShellOptions withPort(int value) {
    return new ShellOptions(bind, value, maxInboundMessageBytes, tlsCert, tlsKey, metricsPort);
  }

  public ShellOptions withMaxInboundMessageBytes(int value) {
    return new ShellOptions(bind, port, value, tlsCert, tlsKey, metricsPort);
  }

  /** Serving TLS with this PEM certificate chain and private key (both null: plaintext). */
  public ShellOptions withTls(Path cert, Path key) {
    return new ShellOptions(bind, port, maxInboundMessageBytes, cert, key, metricsPort);
  }

  /** Prometheus metrics on {@code value} (0: any free port; negative: none). */
  public ShellOptions withMetricsPort(int value) {
    return new ShellOptions(bind, port, maxInboundMessageBytes, tlsCert, tlsKey, value);
  }
}

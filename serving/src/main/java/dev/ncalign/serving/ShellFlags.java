package dev.ncalign.serving;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Option;

/**
 * The flags both servers take for how they listen and how long a text may be; a picocli mixin
 * ({@code @Mixin ShellFlags shell}). {@code --port} and the token flag stay with each server: their
 * defaults and meaning differ.
 */
public final class ShellFlags {

  @Option(
      names = "--bind",
      defaultValue = ShellOptions.DEFAULT_BIND,
      description = "Address to listen on (default ${DEFAULT-VALUE}).")
  String bind;

  @Option(
      names = {"--max-inbound-message-bytes", "--max-message-bytes"},
      defaultValue = "" + ShellOptions.DEFAULT_MAX_INBOUND_MESSAGE_BYTES,
      description = "Largest inbound gRPC message (default ${DEFAULT-VALUE}).")
  int maxInboundMessageBytes;

  @Option(
      names = "--max-chars",
      defaultValue = "" + TextLimit.DEFAULT_MAX_CHARS,
      description =
          "Most characters in one text field of a request, checked before tokenizing; reported by"
              + " GetInfo (default ${DEFAULT-VALUE}).")
  int maxChars;

  @Option(names = "--tls-cert", description = "PEM certificate chain; enables TLS with --tls-key.")
  Path tlsCert;

  @Option(names = "--tls-key", description = "PEM private key for --tls-cert.")
  Path tlsKey;

  @Option(
      names = "--metrics-port",
      defaultValue = "" + ShellOptions.METRICS_OFF,
      description =
          "HTTP port for Prometheus GET /metrics on the --bind address; 0 picks a free one, -1"
              + " (default) turns it off.")
  int metricsPort;

  @Option(
      names = "--parent-pid",
      description = "Exit when the process with this id ends (a run passes its own id).")
  Long parentPid;

  /** The listening options, on {@code port}. */
  public ShellOptions options(int port) {
    return new ShellOptions(bind, port, maxInboundMessageBytes, tlsCert, tlsKey, metricsPort);
  }

  /**
   * With {@code --parent-pid}, exits this JVM (running its shutdown hooks) once that process ends,
   * at once if it is already gone: a server a run started never outlives the run.
   */
  public void exitWhenParentEnds() {
    if (parentPid != null) {
      ProcessHandle.of(parentPid)
          .map(ProcessHandle::onExit)
          .orElse(CompletableFuture.completedFuture(null))
          .thenRun(() -> System.exit(0));
    }
  }

  /** {@code --max-chars}. */
  public TextLimit textLimit() {
    return new TextLimit(maxChars);
  }
}

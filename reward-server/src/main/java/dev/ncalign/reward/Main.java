package dev.ncalign.reward;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code reward-server --model DIR --port N}: serves a Hugging Face sequence-classification ONNX
 * export. Prints {@code listening on port N} on stdout once it accepts calls, so a parent process
 * that asked for port 0 can read the port; with {@code --metrics-port}, a second line {@code
 * metrics on port M} follows.
 */
@Command(
    name = "reward-server",
    mixinStandardHelpOptions = true,
    description = "Serve an ONNX reward model (model.onnx + tokenizer.json) over gRPC.")
public final class Main implements Callable<Integer> {

  @Option(
      names = "--model",
      required = true,
      description = "Model directory with model.onnx and tokenizer.json.")
  private Path model;

  @Option(
      names = "--port",
      defaultValue = "50052",
      description = "Port; 0 picks a free one (default ${DEFAULT-VALUE}).")
  private int port;

  @Option(
      names = "--bind",
      defaultValue = RewardServerOptions.DEFAULT_BIND,
      description = "Address to listen on (default ${DEFAULT-VALUE}).")
  private String bind;

  @Option(
      names = "--label-index",
      description = "Column of logits that is the reward (default: reward_config.json, else 0).")
  private Integer labelIndex;

  @Option(
      names = "--max-length",
      description = "Longest input in tokens (default: reward_config.json, else 512).")
  private Integer maxLength;

  @ArgGroup(exclusive = true)
  private Format format;

  @Option(
      names = "--max-batch-size",
      defaultValue = "" + RewardServerOptions.DEFAULT_MAX_BATCH_SIZE,
      description = "Most items in one model run (default ${DEFAULT-VALUE}).")
  private int maxBatchSize;

  @Option(
      names = "--max-wait-ms",
      defaultValue = "" + RewardServerOptions.DEFAULT_MAX_WAIT_MS,
      description = "Longest an item waits for its batch to fill (default ${DEFAULT-VALUE}).")
  private int maxWaitMs;

  @Option(
      names = "--max-items",
      defaultValue = "" + RewardServerOptions.DEFAULT_MAX_ITEMS,
      description = "Most items in one Score call (default ${DEFAULT-VALUE}).")
  private int maxItems;

  @Option(
      names = "--max-chars",
      defaultValue = "" + RewardServerOptions.DEFAULT_MAX_CHARS,
      description = "Most characters in one prompt or response (default ${DEFAULT-VALUE}).")
  private int maxChars;

  @Option(
      names = "--max-message-bytes",
      defaultValue = "" + RewardServerOptions.DEFAULT_MAX_MESSAGE_BYTES,
      description = "Largest inbound gRPC message (default ${DEFAULT-VALUE}).")
  private int maxMessageBytes;

  @Option(
      names = "--token-file",
      description = "File with a bearer token every RewardService call must present.")
  private Path tokenFile;

  @Option(names = "--tls-cert", description = "PEM certificate chain; enables TLS with --tls-key.")
  private Path tlsCert;

  @Option(names = "--tls-key", description = "PEM private key for --tls-cert.")
  private Path tlsKey;

  @Option(
      names = "--metrics-port",
      defaultValue = "" + RewardServerOptions.METRICS_OFF,
      description =
          "HTTP port for Prometheus GET /metrics on the --bind address; 0 picks a free one, -1 (default) turns it off.")
  private int metricsPort;

  /** Pair encoding or a template; neither means reward_config.json decides. */
  static final class Format {
    @Option(names = "--template", description = "Input template with {prompt} and {response}.")
    String template;

    @Option(
        names = "--pair",
        description = "Use the tokenizer's text-pair encoding (prompt, response).")
    boolean pair;

    InputFormat toInputFormat() {
      return template != null ? InputFormat.template(template) : InputFormat.pair();
    }
  }

  @Option(
      names = "--parent-pid",
      description = "Exit when the process with this id ends (a run passes its own id).")
  Long parentPid;

  @Override
  public Integer call() throws Exception {
    if (parentPid != null) {
      // onExit fires at once when the parent is already gone; System.exit runs the shutdown hook.
      ProcessHandle.of(parentPid)
          .map(ProcessHandle::onExit)
          .orElse(java.util.concurrent.CompletableFuture.completedFuture(null))
          .thenRun(() -> System.exit(0));
    }
    RewardServerOptions options =
        new RewardServerOptions(
            model,
            bind,
            port,
            format == null ? null : format.toInputFormat(),
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
    RewardServer server = RewardServer.start(options);
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "reward-server-shutdown"));
    System.out.println("listening on port " + server.port());
    if (server.metricsPort() != RewardServerOptions.METRICS_OFF) {
      System.out.println("metrics on port " + server.metricsPort());
    }
    System.out.flush();
    server.awaitTermination();
    return 0;
  }

  /** Command-line entry. */
  public static void main(String[] args) {
    System.exit(new CommandLine(new Main()).execute(args));
  }
}

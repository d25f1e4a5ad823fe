package dev.ncalign.reward;

import dev.ncalign.reward.model.InputFormat;
import dev.ncalign.reward.serving.RewardLimits;
import dev.ncalign.reward.serving.RewardServer;
import dev.ncalign.reward.serving.RewardServerOptions;
import dev.ncalign.serving.RunningServer;
import dev.ncalign.serving.ShellFlags;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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
    sortOptions = false,
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
      defaultValue = "" + RewardLimits.DEFAULT_MAX_BATCH_SIZE,
      description = "Most items in one model run (default ${DEFAULT-VALUE}).")
  private int maxBatchSize;

  @Option(
      names = "--max-wait-ms",
      defaultValue = "" + RewardLimits.DEFAULT_MAX_WAIT_MS,
      description = "Longest an item waits for its batch to fill (default ${DEFAULT-VALUE}).")
  private int maxWaitMs;

  @Option(
      names = "--max-items",
      defaultValue = "" + RewardLimits.DEFAULT_MAX_ITEMS,
      description = "Most items in one Score call (default ${DEFAULT-VALUE}).")
  private int maxItems;

  @Mixin private ShellFlags shell;

  @Option(
      names = "--token-file",
      description = "File with a bearer token every RewardService call must present.")
  private Path tokenFile;

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

  @Override
  public Integer call() throws Exception {
    shell.exitWhenParentEnds();
    RewardServerOptions options =
        new RewardServerOptions(
            model,
            format == null ? null : format.toInputFormat(),
            labelIndex,
            maxLength,
            new RewardLimits(maxBatchSize, maxWaitMs, maxItems, shell.textLimit()),
            tokenFile,
            shell.options(port));
    return RunningServer.serveUntilStopped(RewardServer.start(options), "reward-server");
  }

  /** Command-line entry. */
  public static void main(String[] args) {
    System.exit(new CommandLine(new Main()).execute(args));
  }
}

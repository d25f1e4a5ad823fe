package dev.ncalign.policy;

import dev.ncalign.policy.serving.PolicyLimits;
import dev.ncalign.policy.serving.PolicyServer;
import dev.ncalign.policy.serving.PolicyServerOptions;
import dev.ncalign.serving.RunningServer;
import dev.ncalign.serving.ShellFlags;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code policy-server --model DIR [--port N] [--bind ADDR] [--device auto|cpu|gpu] ...}: serves a
 * Hugging Face model directory over gRPC until killed. Prints {@code listening on port N} on stdout
 * once ready (logs go to stderr), so a parent process started with {@code --port 0} can read the
 * port; with {@code --metrics-port}, then {@code metrics on port M}.
 */
@Command(
    name = "policy-server",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description =
        "Serve a Llama-style policy (Generate, ComputeLogprobs, PushWeights, GetInfo) over gRPC.")
public final class Main implements Callable<Integer> {

  @Option(
      names = "--model",
      required = true,
      description = "HF model directory (config.json, model.safetensors, tokenizer.json).")
  Path model;

  @Option(
      names = "--port",
      defaultValue = "0",
      description = "TCP port; 0 picks a free one (default).")
  int port;

  @Option(
      names = "--device",
      defaultValue = "auto",
      description = "auto (GPU if DJL sees one), cpu or gpu.")
  String device;

  @Option(
      names = "--dtype",
      defaultValue = "auto",
      description =
          "Weights' type: auto (config.json's torch_dtype on a GPU, float32 on a CPU), float32,"
              + " bfloat16 (held as float32: DJL 0.36 has no bfloat16 arrays) or float16.")
  String dtype;

  @Option(names = "--max-num-samples", defaultValue = "16", description = "Largest K per Generate.")
  int maxNumSamples;

  @Option(
      names = "--max-prompts",
      defaultValue = "64",
      description = "Largest number of prompts per Generate.")
  int maxPrompts;

  @Option(
      names = "--max-new-tokens",
      defaultValue = "128",
      description = "max_new_tokens when a request leaves it 0.")
  int maxNewTokens;

  @Option(
      names = "--max-weight-bytes",
      defaultValue = "17179869184",
      description = "Largest PushWeights file.")
  long maxWeightBytes;

  @Option(
      names = "--push-token-file",
      description = "File with the bearer token PushWeights requires (mandatory beyond loopback).")
  Path pushTokenFile;

  @Option(
      names = "--max-running-requests",
      description =
          "Generate/ComputeLogprobs calls running model work at once; more wait in a queue"
              + " (default: the number of cores).")
  Integer maxRunningRequests;

  @Mixin ShellFlags shell;

  @Option(
      names = "--threads",
      description = "libtorch intra-op threads (default: libtorch's choice).")
  Integer threads;

  @Override
  public Integer call() throws Exception {
    shell.exitWhenParentEnds();
    if (threads != null) {
      // Read by DJL when the PyTorch engine starts, which has not happened yet.
      System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
    }
    PolicyServerOptions options =
        new PolicyServerOptions(
            model,
            device,
            dtype,
            new PolicyLimits(
                maxNumSamples, maxPrompts, maxNewTokens, maxWeightBytes, shell.textLimit()),
            pushTokenFile,
            shell.options(port),
            maxRunningRequests == null
                ? PolicyServerOptions.defaultMaxRunningRequests()
                : maxRunningRequests);
    return RunningServer.serveUntilStopped(PolicyServer.start(options), "policy-server");
  }

  public static void main(String[] args) {
    // Our logging setup only when this is the process's entry point: as a library the jar ships no
    // logback.xml that would configure its host. Set before the first logger is created.
    if (System.getProperty("logback.configurationFile") == null) {
      System.setProperty("logback.configurationFile", "policy-server-logback.xml");
    }
    CommandLine cli = new CommandLine(new Main());
    // A bad model directory or flag is one line on stderr and exit code 2, not a stack trace.
    cli.setExecutionExceptionHandler(
        (e, command, parsed) -> {
          if (e instanceof IllegalArgumentException || e instanceof UncheckedIOException) {
            command.getErr().println("policy-server: " + e.getMessage());
            return 2;
          }
          throw e;
        });
    System.exit(cli.execute(args));
  }
}

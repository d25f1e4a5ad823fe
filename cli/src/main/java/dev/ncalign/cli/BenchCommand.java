package dev.ncalign.cli;

import dev.ncalign.lm.bench.CacheVsRecompute;
import dev.ncalign.lm.bench.GenerationBenchmark;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ncalign bench}: generation at the Qwen2.5-0.5B shape (tokens/s, load time, peak RSS per
 * request size) and the KV cache against recomputing the prefix on the demo-size model.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description =
        "Benchmark generation: a Qwen2.5-0.5B-shaped random model (BF16, written once) samples"
            + " P x K completions per size in a fresh JVM; then KV cache vs recompute on the demo"
            + " model size. Results go to --out as JSON, Markdown and SVG.")
final class BenchCommand implements Callable<Integer> {
  @Option(
      names = "--out",
      defaultValue = "docs/bench",
      description = "result directory (default: ${DEFAULT-VALUE})")
  Path out;

  @Option(
      names = "--model-dir",
      defaultValue = ".ncalign/bench/qwen2.5-0.5b-shape",
      description = "cache of the 0.5B-shaped model, about 1 GB (default: ${DEFAULT-VALUE})")
  Path modelDir;

  @Option(
      names = "--new-tokens",
      split = ",",
      defaultValue = "32,128",
      description = "new tokens per completion, one run each (default: ${DEFAULT-VALUE})")
  List<Integer> newTokens;

  @Option(names = "--prompts", defaultValue = "4", description = "P (default: ${DEFAULT-VALUE})")
  int prompts;

  @Option(
      names = "-k",
      defaultValue = "4",
      description = "K per prompt (default: ${DEFAULT-VALUE})")
  int k;

  @Option(
      names = "--threads",
      defaultValue = "1",
      description = "libtorch threads of the measuring JVM (default: ${DEFAULT-VALUE})")
  int threads;

  @Option(
      names = "--batches",
      split = ",",
      defaultValue = "1,4,16,64",
      description = "batch sizes of the KV-cache comparison (default: ${DEFAULT-VALUE})")
  List<Integer> batches;

  @Option(names = "--skip-0.5b", description = "only the KV-cache comparison")
  boolean skipLarge;

  @Override
  public Integer call() {
    if (!skipLarge) {
      GenerationBenchmark.run(
          new GenerationBenchmark.Options(modelDir, out, newTokens, prompts, k, threads),
          System.out::println);
    }
    CacheVsRecompute.run(out, batches, System.out::println);
    System.out.println("results in " + out);
    return 0;
  }
}

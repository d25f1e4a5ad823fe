package dev.ncalign.cli;

import dev.ncalign.bench.LoopBenchmark;
import dev.ncalign.bench.RewardBatchingBenchmark;
import dev.ncalign.bench.RoundAtScaleBenchmark;
import dev.ncalign.bench.SwapBenchmark;
import dev.ncalign.lm.bench.CacheVsRecompute;
import dev.ncalign.lm.bench.GenerationBenchmark;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ncalign bench [SUITE...]}: the project's speed and memory figures, each measured side by
 * side in one run, results as JSON, Markdown and plots under {@code --out}.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Benchmark suites (default: all):",
      "  generation  Generate at the Qwen2.5-0.5B shape (random BF16 model, written once), one"
          + " fresh JVM per size",
      "  kv          KV-cache sampling vs recomputing the prefix, tokens/s against batch size,"
          + " on the demo-size model and a 16 M-parameter Qwen2-style one",
      "  reward      reward server: dynamic batching vs one item per call at 1, 8, 64 callers",
      "  swap        push-to-live latency against weight bytes, idle and under 200 Generate calls",
      "  loop        demo rounds: orchestrator overhead, max_staleness 0 vs 1",
      "  rounds      two online rounds at the 0.5B shape, full and LoRA: round time, push,"
          + " peak memory of every process",
      "Results go to --out as JSON, Markdown and SVG/PNG."
    })
final class BenchCommand implements Callable<Integer> {
  /** The suites, in the order {@code all} runs them (cheap and load-sensitive first). */
  enum Suite {
    kv,
    reward,
    swap,
    loop,
    generation,
    rounds
  }

  @Parameters(
      arity = "0..*",
      description = "suites to run: ${COMPLETION-CANDIDATES}, or none for all")
  List<Suite> suites = List.of();

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

  @Option(
      names = "--rounds",
      defaultValue = "20",
      description = "demo rounds per run of the loop suite (default: ${DEFAULT-VALUE})")
  int rounds;

  @Option(
      names = "--repeats",
      defaultValue = "3",
      description =
          "pairs of max_staleness 0 and 1 runs in the loop suite; the median ratio is reported"
              + " (default: ${DEFAULT-VALUE})")
  int repeats;

  @Option(
      names = "--assets",
      defaultValue = ".ncalign/assets",
      description = "demo model cache for the loop suite (default: ${DEFAULT-VALUE})")
  Path assets;

  @Override
  public Integer call() {
    EnumSet<Suite> selected =
        suites.isEmpty() ? EnumSet.allOf(Suite.class) : EnumSet.copyOf(suites);
    for (Suite suite : selected) {
      System.out.println("== " + suite);
      switch (suite) {
        case kv -> CacheVsRecompute.run(out, batches, System.out::println);
        case reward ->
            RewardBatchingBenchmark.run(
                RewardBatchingBenchmark.Options.defaults(out, Path.of(".ncalign/bench/reward")),
                System.out::println);
        case swap ->
            SwapBenchmark.run(
                SwapBenchmark.Options.defaults(out, Path.of(".ncalign/bench/swap")),
                System.out::println);
        case loop ->
            LoopBenchmark.run(
                new LoopBenchmark.Options(
                    Path.of("configs/demo.yaml"), assets, out, rounds, repeats),
                System.out::println);
        case rounds ->
            RoundAtScaleBenchmark.run(
                new RoundAtScaleBenchmark.Options(modelDir, assets, out, "12g"),
                System.out::println);
        case generation ->
            GenerationBenchmark.run(
                new GenerationBenchmark.Options(modelDir, out, newTokens, prompts, k, threads),
                System.out::println);
      }
    }
    System.out.println("results in " + out);
    return 0;
  }
}

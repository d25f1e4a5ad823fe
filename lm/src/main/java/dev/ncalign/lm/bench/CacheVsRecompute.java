package dev.ncalign.lm.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ncalign.lm.io.DirectoryTrees;
import dev.ncalign.lm.model.AttentionMask;
import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.lm.model.NoGrad;
import dev.ncalign.lm.model.TinyModelFactory;
import dev.ncalign.lm.model.TinyModelSpec;
import dev.ncalign.lm.sampling.SampledSequence;
import dev.ncalign.lm.sampling.Sampler;
import dev.ncalign.lm.sampling.SamplingOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Greedy generation of 24 new tokens from 9-token prompts with the KV cache ({@link Sampler})
 * against recomputing the whole prefix every step (no cache), for several batch sizes and two model
 * sizes: the demo policy's, where a forward costs its operator calls more than its arithmetic, and
 * a 16 M-parameter Qwen2-style one, where arithmetic dominates. Both paths decode greedily, so they
 * must produce the same tokens; the report says whether they did. Writes {@code
 * kv-vs-recompute.json}, {@code kv-vs-recompute.md} and SVG plots (see {@link
 * CacheVsRecomputeReport}).
 */
public final class CacheVsRecompute {

  /**
   * A model size the comparison runs on: a random model of {@code spec} with a word-level
   * vocabulary of {@code words} words (plus 4 special tokens).
   */
  public record BenchModel(String name, String description, TinyModelSpec spec, int words) {}

  /** The demo policy's shape (117 k parameters with its ≈ 150-word vocabulary). */
  public static final BenchModel DEMO =
      new BenchModel(
          "demo",
          "demo policy's shape: hidden 64, 2 layers, 4 heads / 2 kv heads, intermediate 192,"
              + " vocabulary 154",
          new TinyModelSpec(64, 2, 4, 2, 192, 64),
          150);

  /** Qwen2-style with tied embeddings and q/k/v bias, 16 M parameters: arithmetic-bound. */
  public static final BenchModel QWEN2_H512 =
      new BenchModel(
          "qwen2-h512",
          "Qwen2-style: hidden 512, 4 layers, 8 heads / 2 kv heads, intermediate 1536,"
              + " vocabulary 8192, tied embeddings, q/k/v bias",
          new TinyModelSpec(512, 4, 8, 2, 1536, 64, true, true),
          8188);

  /** What {@link #run(Path, List, Consumer)} measures. */
  public static final List<BenchModel> MODELS = List.of(DEMO, QWEN2_H512);

  static final int NEW_TOKENS = 24;
  private static final int PROMPT_WORDS = 8;

  /**
   * Runs of one measurement at most, and the seconds after which it is not repeated: the short
   * demo-size runs are repeated often enough for one undisturbed run on a loaded machine, the
   * longest (recompute at batch 64 on the larger model) runs once.
   */
  private static final int MAX_RUNS = 20;

  private static final double RUN_BUDGET_SECONDS = 2;

  private static final double WARM_UP_SECONDS = 2;
  private static final ObjectMapper JSON = new ObjectMapper();

  private CacheVsRecompute() {}

  /** Measures every batch size on every model of {@link #MODELS} into {@code outDir}. */
  public static ObjectNode run(Path outDir, List<Integer> batchSizes, Consumer<String> progress) {
    return run(outDir, batchSizes, MODELS, progress);
  }

  /**
   * Measures every batch size on each of {@code models} and writes the results into {@code outDir}.
   *
   * @throws IllegalArgumentException if there is no batch size or model, or a batch size is &lt; 1
   */
  public static ObjectNode run(
      Path outDir, List<Integer> batchSizes, List<BenchModel> models, Consumer<String> progress) {
    if (batchSizes.isEmpty() || models.isEmpty()) {
      throw new IllegalArgumentException("need at least one batch size and one model");
    }
    for (int batch : batchSizes) {
      if (batch < 1) {
        throw new IllegalArgumentException("batch sizes must be ≥ 1, got " + batch);
      }
    }
    ObjectNode report = JSON.createObjectNode();
    report.put("date", Instant.now().toString());
    report.put("new_tokens", NEW_TOKENS).put("prompt_tokens", PROMPT_WORDS + 1);
    report.put("libtorch_threads", System.getProperty("ai.djl.pytorch.num_threads", "default"));
    report.put("max_runs", MAX_RUNS).put("run_budget_seconds", RUN_BUDGET_SECONDS);
    // glibc hands large freed blocks back to the kernel unless told otherwise, and recomputing
    // the prefix allocates megabytes per op at batch 64: its speed depends on these (measured: 3×
    // faster on the demo model with a 256 MiB mmap threshold), so the report says what was set.
    report.put("malloc_mmap_threshold", System.getenv().getOrDefault("MALLOC_MMAP_THRESHOLD_", ""));
    report.put("malloc_trim_threshold", System.getenv().getOrDefault("MALLOC_TRIM_THRESHOLD_", ""));
    report.put("load_average_before", LoadAverage.now());
    ArrayNode results = report.putArray("models");
    for (BenchModel model : models) {
      results.add(measure(model, batchSizes, progress));
    }
    report.put("load_average_after", LoadAverage.now());
    CacheVsRecomputeReport.write(outDir, report);
    return report;
  }

  private static ObjectNode measure(
      BenchModel model, List<Integer> batchSizes, Consumer<String> progress) {
    ObjectNode result = JSON.createObjectNode();
    result.put("model", model.name()).put("description", model.description());
    Path dir;
    try {
      dir = Files.createTempDirectory("kv-vs-recompute-" + model.name());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try (CausalLm lm =
        CausalLm.load(TinyModelFactory.write(dir, words(model), model.spec(), 5), Device.cpu())) {
      result.put("parameters", lm.parameterCount());
      warmUp(lm, prompts(lm, model, 1));
      ArrayNode rows = result.putArray("batches");
      for (int batch : batchSizes) {
        ObjectNode row = measureBatch(lm, prompts(lm, model, batch));
        rows.add(row);
        progress.accept(model.name() + " " + row);
      }
    } finally {
      try {
        DirectoryTrees.delete(dir);
      } catch (IOException e) {
        progress.accept("could not delete " + dir + ": " + e.getMessage());
      }
    }
    return result;
  }

  /**
   * Runs both paths for {@link #WARM_UP_SECONDS}: in a fresh JVM the JIT compiler is still busy
   * with DJL's and the sampler's code for the first seconds (measured: the demo model's first
   * points came out up to 2× slow after a single warm-up run).
   */
  private static void warmUp(CausalLm lm, List<int[]> prompts) {
    long end = System.nanoTime() + (long) (WARM_UP_SECONDS * 1e9);
    do {
      withCache(lm, prompts);
      recompute(lm, prompts);
    } while (System.nanoTime() < end);
  }

  private static ObjectNode measureBatch(CausalLm lm, List<int[]> prompts) {
    int batch = prompts.size();
    BestOfRuns.Result<List<SampledSequence>> cached =
        BestOfRuns.measure(() -> withCache(lm, prompts), MAX_RUNS, RUN_BUDGET_SECONDS);
    BestOfRuns.Result<int[][]> recomputed =
        BestOfRuns.measure(() -> recompute(lm, prompts), MAX_RUNS, RUN_BUDGET_SECONDS);
    long cacheTokens = cached.value().stream().mapToLong(s -> s.tokenIds().length).sum();
    long recomputeTokens = (long) batch * NEW_TOKENS;
    ObjectNode row = JSON.createObjectNode();
    row.put("batch", batch);
    double cacheRate = cacheTokens / cached.wallSeconds();
    double recomputeRate = recomputeTokens / recomputed.wallSeconds();
    row.put("kv_cache_tokens_per_second", cacheRate);
    row.put("recompute_tokens_per_second", recomputeRate);
    row.put("speedup", cacheRate / recomputeRate);
    double cacheCpuRate = cacheTokens / cached.cpuSeconds();
    double recomputeCpuRate = recomputeTokens / recomputed.cpuSeconds();
    row.put("kv_cache_tokens_per_cpu_second", cacheCpuRate);
    row.put("recompute_tokens_per_cpu_second", recomputeCpuRate);
    row.put("cpu_speedup", cacheCpuRate / recomputeCpuRate);
    row.put("kv_cache_runs", cached.runs()).put("recompute_runs", recomputed.runs());
    row.put("same_tokens", samePrefixes(cached.value(), recomputed.value()));
    return row;
  }

  private static List<String> words(BenchModel model) {
    List<String> words = new ArrayList<>();
    for (int i = 0; i < model.words(); i++) {
      words.add("w" + i);
    }
    return words;
  }

  /** {@code batch} different prompts of {@link #PROMPT_WORDS} words (plus BOS), equally long. */
  private static List<int[]> prompts(CausalLm lm, BenchModel model, int batch) {
    List<int[]> prompts = new ArrayList<>();
    for (int b = 0; b < batch; b++) {
      StringBuilder text = new StringBuilder();
      for (int w = 0; w < PROMPT_WORDS; w++) {
        text.append("w").append(4 + (b * 13 + w * 7) % (model.words() - 4)).append(' ');
      }
      prompts.add(lm.codec().encodePrompt(text.toString()));
    }
    return prompts;
  }

  private static List<SampledSequence> withCache(CausalLm lm, List<int[]> prompts) {
    return new Sampler()
        .generateIds(lm, prompts, 1, SamplingOptions.greedy(NEW_TOKENS), () -> false);
  }

  /**
   * Greedy decoding without a cache: every step runs the full forward over each row's whole prefix
   * (equal-length prompts, so no padding) and keeps the last position's argmax.
   */
  static int[][] recompute(CausalLm lm, List<int[]> prompts) {
    int batch = prompts.size();
    int promptLength = prompts.get(0).length;
    long[][] ids = new long[batch][promptLength + NEW_TOKENS];
    for (int b = 0; b < batch; b++) {
      for (int t = 0; t < promptLength; t++) {
        ids[b][t] = prompts.get(b)[t];
      }
    }
    try (NoGrad ignored = NoGrad.enter()) {
      for (int length = promptLength; length < promptLength + NEW_TOKENS; length++) {
        long[] flat = new long[batch * length];
        for (int b = 0; b < batch; b++) {
          System.arraycopy(ids[b], 0, flat, b * length, length);
        }
        try (NDManager step = lm.manager().newSubManager()) {
          NDArray logits =
              lm.forwardLast(
                  step.create(flat, new Shape(batch, length)),
                  step.arange(0f, length).reshape(1, length),
                  AttentionMask.causal(step, length),
                  null);
          long[] next = logits.argMax(-1).toLongArray();
          for (int b = 0; b < batch; b++) {
            ids[b][length] = next[b];
          }
        }
      }
    }
    int[][] out = new int[batch][NEW_TOKENS];
    for (int b = 0; b < batch; b++) {
      for (int j = 0; j < NEW_TOKENS; j++) {
        out[b][j] = Math.toIntExact(ids[b][promptLength + j]);
      }
    }
    return out;
  }

  /** Whether every cached row (which may have stopped at eos) is a prefix of its recomputed row. */
  static boolean samePrefixes(List<SampledSequence> cached, int[][] recomputed) {
    for (int b = 0; b < recomputed.length; b++) {
      int[] ids = cached.get(b).tokenIds();
      for (int j = 0; j < ids.length; j++) {
        if (ids[j] != recomputed[b][j]) {
          return false;
        }
      }
    }
    return true;
  }
}

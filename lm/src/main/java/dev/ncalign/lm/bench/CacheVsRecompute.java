package dev.ncalign.lm.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Greedy generation of 24 new tokens on a model of the demo policy's size, with the KV cache
 * ({@link Sampler}) against recomputing the whole prefix every step (no cache), for several batch
 * sizes. Both decode greedily, so they must produce the same tokens; the report says whether they
 * did. Writes {@code kv-vs-recompute.json} and {@code kv-vs-recompute.svg}.
 */
public final class CacheVsRecompute {

  /** The demo policy's shape (117 k parameters with its ≈ 150-word vocabulary). */
  static final TinyModelSpec DEMO_SPEC = new TinyModelSpec(64, 2, 4, 2, 192, 64);

  private static final int VOCABULARY = 150;
  private static final int PROMPT_WORDS = 8;
  private static final int NEW_TOKENS = 24;
  private static final int REPEATS = 3;
  private static final ObjectMapper JSON = new ObjectMapper();

  private CacheVsRecompute() {}

  /** Measures every batch size and writes the results into {@code outDir}. */
  public static ObjectNode run(Path outDir, List<Integer> batchSizes, Consumer<String> progress) {
    List<String> words = new ArrayList<>();
    for (int i = 0; i < VOCABULARY; i++) {
      words.add("w" + i);
    }
    ObjectNode report = JSON.createObjectNode();
    report.put("new_tokens", NEW_TOKENS).put("load_average_before", ProcessMemory.loadAverage());
    Path dir;
    try {
      dir = Files.createTempDirectory("kv-vs-recompute");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try (CausalLm lm =
        CausalLm.load(TinyModelFactory.write(dir, words, DEMO_SPEC, 5), Device.cpu())) {
      report.put("parameters", lm.parameterCount());
      ArrayNode rows = report.putArray("batches");
      for (int batch : batchSizes) {
        List<int[]> prompts = new ArrayList<>();
        for (int b = 0; b < batch; b++) {
          StringBuilder text = new StringBuilder();
          for (int w = 0; w < PROMPT_WORDS; w++) {
            text.append("w").append(4 + (b * 13 + w * 7) % (VOCABULARY - 4)).append(' ');
          }
          prompts.add(lm.codec().encodePrompt(text.toString()));
        }
        // Warm-up, then the best of a few runs: the machine is shared.
        List<SampledSequence> cached = withCache(lm, prompts);
        int[][] recomputed = recompute(lm, prompts);
        double cacheSeconds = Double.MAX_VALUE;
        double recomputeSeconds = Double.MAX_VALUE;
        for (int r = 0; r < REPEATS; r++) {
          long start = System.nanoTime();
          cached = withCache(lm, prompts);
          cacheSeconds = Math.min(cacheSeconds, (System.nanoTime() - start) / 1e9);
          start = System.nanoTime();
          recomputed = recompute(lm, prompts);
          recomputeSeconds = Math.min(recomputeSeconds, (System.nanoTime() - start) / 1e9);
        }
        long cacheTokens = cached.stream().mapToLong(s -> s.tokenIds().length).sum();
        ObjectNode row = rows.addObject();
        row.put("batch", batch);
        row.put("kv_cache_tokens_per_second", cacheTokens / cacheSeconds);
        row.put("recompute_tokens_per_second", (double) batch * NEW_TOKENS / recomputeSeconds);
        row.put(
            "speedup",
            row.get("kv_cache_tokens_per_second").asDouble()
                / row.get("recompute_tokens_per_second").asDouble());
        row.put("same_tokens", samePrefixes(cached, recomputed));
        progress.accept(row.toString());
      }
    }
    report.put("load_average_after", ProcessMemory.loadAverage());
    write(outDir, report);
    return report;
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
  private static boolean samePrefixes(List<SampledSequence> cached, int[][] recomputed) {
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

  private static void write(Path outDir, ObjectNode report) {
    List<double[]> cache = new ArrayList<>();
    List<double[]> recompute = new ArrayList<>();
    report
        .get("batches")
        .forEach(
            row -> {
              double batch = row.get("batch").asDouble();
              cache.add(new double[] {batch, row.get("kv_cache_tokens_per_second").asDouble()});
              recompute.add(
                  new double[] {batch, row.get("recompute_tokens_per_second").asDouble()});
            });
    String title =
        String.format(
            Locale.ROOT,
            "Greedy generation, %d new tokens, %,d-parameter model",
            NEW_TOKENS,
            report.get("parameters").asLong());
    String svg =
        new SvgLinePlot(title, "batch size (rows decoded together)", "tokens/s")
            .series("KV cache", "#1f77b4", cache)
            .series("recompute prefix", "#d62728", recompute)
            .render();
    try {
      Files.createDirectories(outDir);
      JSON.writerWithDefaultPrettyPrinter()
          .writeValue(outDir.resolve("kv-vs-recompute.json").toFile(), report);
      Files.writeString(outDir.resolve("kv-vs-recompute.svg"), svg);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write results to " + outDir, e);
    }
  }
}

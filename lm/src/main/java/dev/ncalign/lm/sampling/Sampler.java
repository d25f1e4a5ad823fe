package dev.ncalign.lm.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.ncalign.lm.model.AttentionMask;
import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.lm.model.KvCache;
import dev.ncalign.lm.model.NoGrad;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;

/**
 * Batched generation of P prompts × K samples with a KV cache. The P prompts are prefilled once in
 * one left-padded batch (logits of the last position only); each prompt's cache is then copied to
 * its K rows, and all P·K rows decode together, finished rows dropping out of the batch. Tokens are
 * chosen on the device ({@link TokenChooser}); per step only the chosen ids and their log-probs
 * reach Java. Every row has its own random stream derived from (seed, prompt index, sample index),
 * so results do not depend on how rows are batched.
 *
 * <p>Memory: the cache is preallocated for the longest row and filled in place; everything else a
 * step computes lives in a scratch NDManager closed at the end of the step, so a request holds
 * nothing beyond its cache, however many tokens it generates.
 */
public final class Sampler {

  /**
   * Samples {@code k} completions for each prompt, ordered by (prompt index, sample index).
   *
   * @param cancelled polled between decode steps; when true, unfinished rows end as CANCELLED
   * @throws IllegalArgumentException if k &lt; 1 or a prompt leaves no room in the context window
   */
  public List<SampledSequence> generate(
      CausalLm lm,
      List<String> prompts,
      int k,
      SamplingOptions options,
      BooleanSupplier cancelled) {
    List<int[]> promptIds = new ArrayList<>();
    prompts.forEach(prompt -> promptIds.add(lm.codec().encodePrompt(prompt)));
    return generateIds(lm, promptIds, k, options, cancelled);
  }

  /** As {@link #generate}, from already encoded prompts. */
  public List<SampledSequence> generateIds(
      CausalLm lm,
      List<int[]> promptIds,
      int k,
      SamplingOptions options,
      BooleanSupplier cancelled) {
    if (k < 1) {
      throw new IllegalArgumentException("num_samples must be ≥ 1, got " + k);
    }
    if (promptIds.isEmpty()) {
      throw new IllegalArgumentException("prompts must not be empty");
    }
    int context = lm.config().maxPositionEmbeddings();
    for (int p = 0; p < promptIds.size(); p++) {
      int length = promptIds.get(p).length;
      if (length == 0 || length >= context) {
        throw new IllegalArgumentException(
            "prompts["
                + p
                + "] has "
                + length
                + " tokens; it needs 1 to "
                + (context - 1)
                + " (context "
                + context
                + ")");
      }
    }
    try (NDManager request = lm.manager().newSubManager();
        NoGrad ignored = NoGrad.enter()) {
      return new Generation(lm, promptIds, k, options, cancelled, request).run();
    }
  }

  /** One generate call: its cache, its rows. */
  private static final class Generation {
    private final CausalLm lm;
    private final List<int[]> promptIds;
    private final int k;
    private final SamplingOptions options;
    private final BooleanSupplier cancelled;
    private final NDManager request;
    private final KvCache cache;
    private final TokenChooser chooser;
    private final StopStrings stops;
    private final int prefillLength;

    Generation(
        CausalLm lm,
        List<int[]> promptIds,
        int k,
        SamplingOptions options,
        BooleanSupplier cancelled,
        NDManager request) {
      this.lm = lm;
      this.promptIds = promptIds;
      this.k = k;
      this.options = options;
      this.cancelled = cancelled;
      this.request = request;
      this.chooser = new TokenChooser(options);
      this.stops = new StopStrings(options.stop());
      this.prefillLength = promptIds.stream().mapToInt(ids -> ids.length).max().orElseThrow();
      // Keys per row: the prompts left-padded to the longest, then one per decode step; a row
      // makes at most min(max_new_tokens, context - its prompt) tokens and the last is not fed.
      int context = lm.config().maxPositionEmbeddings();
      int longestRow =
          promptIds.stream()
              .mapToInt(ids -> Math.min(options.maxNewTokens(), context - ids.length))
              .max()
              .orElseThrow();
      this.cache =
          new KvCache(request, lm.config().numHiddenLayers(), prefillLength + longestRow - 1);
    }

    List<SampledSequence> run() {
      long[] copies = new long[promptIds.size() * k];
      List<Row> rows = new ArrayList<>();
      for (int p = 0; p < promptIds.size(); p++) {
        for (int s = 0; s < k; s++) {
          copies[rows.size()] = p;
          rows.add(new Row(p, s, promptIds.get(p).length, options.seed()));
        }
      }
      try (NDManager step = request.newSubManager()) {
        // Each prompt's next-token logits serve its K rows.
        NDArray promptLogits = prefill(step);
        cache.selectRows(copies);
        append(rows, promptLogits.get(new NDIndex("{}", step.create(copies))));
      }
      List<Row> active = rows;
      while (true) {
        List<Row> next = new ArrayList<>();
        List<Long> keep = new ArrayList<>();
        for (int r = 0; r < active.size(); r++) {
          if (active.get(r).finish == null) {
            next.add(active.get(r));
            keep.add((long) r);
          }
        }
        if (next.isEmpty()) {
          break;
        }
        if (cancelled.getAsBoolean()) {
          next.forEach(row -> row.finish = FinishReason.CANCELLED);
          break;
        }
        if (next.size() < active.size()) {
          cache.selectRows(keep.stream().mapToLong(Long::longValue).toArray());
        }
        active = next;
        try (NDManager step = request.newSubManager()) {
          append(active, decode(step, active));
        }
      }
      List<SampledSequence> out = new ArrayList<>();
      rows.forEach(row -> out.add(row.result(lm.codec().decode(row.tokenArray()))));
      return out;
    }

    /**
     * One left-padded forward over all prompts; returns each prompt's last-position logits [P,
     * vocab].
     */
    private NDArray prefill(NDManager step) {
      int prompts = promptIds.size();
      long[] ids = new long[prompts * prefillLength];
      float[] positions = new float[prompts * prefillLength];
      int[] padding = new int[prompts];
      for (int p = 0; p < prompts; p++) {
        int[] prompt = promptIds.get(p);
        padding[p] = prefillLength - prompt.length;
        for (int t = 0; t < prefillLength; t++) {
          boolean real = t >= padding[p];
          ids[p * prefillLength + t] = real ? prompt[t - padding[p]] : lm.codec().padId();
          positions[p * prefillLength + t] = real ? t - padding[p] : 0;
        }
      }
      return lm.forwardLast(
          step.create(ids, new Shape(prompts, prefillLength)),
          step.create(positions, new Shape(prompts, prefillLength)),
          AttentionMask.leftPadded(step, padding, prefillLength, prefillLength),
          cache);
    }

    /** Feeds each active row's last token; returns next-token logits [rows, vocab]. */
    private NDArray decode(NDManager step, List<Row> active) {
      int batch = active.size();
      long[] ids = new long[batch];
      float[] positions = new float[batch];
      int[] padding = new int[batch];
      for (int r = 0; r < batch; r++) {
        Row row = active.get(r);
        ids[r] = row.tokens.get(row.tokens.size() - 1);
        positions[r] = row.promptLength + row.tokens.size() - 1;
        padding[r] = prefillLength - row.promptLength;
      }
      int keys = (int) cache.length() + 1;
      return lm.forwardLast(
          step.create(ids, new Shape(batch, 1)),
          step.create(positions, new Shape(batch, 1)),
          AttentionMask.leftPadded(step, padding, 1, keys),
          cache);
    }

    /** Chooses one token for each of {@code rows} from its logits row and appends it. */
    private void append(List<Row> rows, NDArray logits) {
      double[] uniforms = null;
      if (chooser.needsUniforms()) {
        uniforms = new double[rows.size()];
        for (int r = 0; r < uniforms.length; r++) {
          uniforms[r] = rows.get(r).random.nextDouble();
        }
      }
      TokenChooser.Choice choice = chooser.choose(logits, uniforms);
      for (int r = 0; r < rows.size(); r++) {
        step(rows.get(r), choice.ids()[r], choice.logprobs()[r]);
      }
    }

    /** Appends one token to {@code row} and decides whether the row is finished. */
    private void step(Row row, int token, float logprob) {
      row.tokens.add(token);
      row.logprobs.add(logprob);
      if (lm.codec().isEos(token)) {
        row.finish = FinishReason.STOP;
      } else if (stops.trim(row, lm.codec())) {
        row.finish = FinishReason.STOP;
      } else if (row.tokens.size() >= options.maxNewTokens()
          || row.promptLength + row.tokens.size() >= lm.config().maxPositionEmbeddings()) {
        row.finish = FinishReason.LENGTH;
      }
    }
  }

  /** A sequence being generated. */
  static final class Row {
    final int promptIndex;
    final int sampleIndex;
    final int promptLength;
    final SplittableRandom random;
    final List<Integer> tokens = new ArrayList<>();
    final List<Float> logprobs = new ArrayList<>();
    FinishReason finish;

    Row(int promptIndex, int sampleIndex, int promptLength, long seed) {
      this.promptIndex = promptIndex;
      this.sampleIndex = sampleIndex;
      this.promptLength = promptLength;
      // Distinct, reproducible, unrelated streams per (seed, prompt, sample).
      this.random = new SplittableRandom(StreamSeeds.of(seed, promptIndex, sampleIndex));
    }

    int[] tokenArray() {
      return tokens.stream().mapToInt(Integer::intValue).toArray();
    }

    SampledSequence result(String text) {
      float[] lp = new float[logprobs.size()];
      double sum = 0;
      for (int i = 0; i < lp.length; i++) {
        lp[i] = logprobs.get(i);
        sum += lp[i];
      }
      return new SampledSequence(promptIndex, sampleIndex, text, tokenArray(), lp, sum, finish);
    }
  }
}

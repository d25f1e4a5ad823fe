package dev.ncalign.lm.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;

/**
 * Picks the next token of every row of a logits batch on the model's device, in HF's processor
 * order: temperature, top-k, top-p; greedy (argmax) when the temperature is 0. Only the chosen ids
 * and their log-probs under the unmodified distribution (temperature 1, no truncation, what the
 * policy is trained and scored on) come back to Java.
 *
 * <p>Randomness stays in Java: each row supplies one uniform number per token from its own stream,
 * and the device inverts the row's cumulative distribution at it (in float64), so a row's sample
 * depends on its logits and its stream only, never on the other rows of the batch.
 */
final class TokenChooser {

  private final SamplingOptions options;

  TokenChooser(SamplingOptions options) {
    this.options = options;
  }

  /** The chosen id of each row and its log-prob under the unmodified policy. */
  record Choice(int[] ids, float[] logprobs) {}

  /** Whether {@link #choose} needs uniform numbers (false for greedy decoding). */
  boolean needsUniforms() {
    return !options.greedy();
  }

  /**
   * Chooses one token per row.
   *
   * @param logits [rows, vocab] float32; results of the computation stay in its NDManager
   * @param uniforms one number in [0, 1) per row, or null when {@link #needsUniforms()} is false
   */
  Choice choose(NDArray logits, double[] uniforms) {
    NDManager manager = logits.getManager();
    int rows = Math.toIntExact(logits.getShape().get(0));
    NDArray ids = options.greedy() ? logits.argMax(-1) : sample(logits, uniforms, manager, rows);
    NDArray chosen = ids.reshape(rows, 1);
    NDArray logprobs = logits.logSoftmax(-1).gather(chosen, 1).reshape(rows);
    long[] idValues = chosen.toLongArray();
    int[] out = new int[rows];
    for (int r = 0; r < rows; r++) {
      out[r] = Math.toIntExact(idValues[r]);
    }
    return new Choice(out, logprobs.toFloatArray());
  }

  /** Inverse-CDF sampling from the tempered, truncated distribution of each row. */
  private NDArray sample(NDArray logits, double[] uniforms, NDManager manager, int rows) {
    if (uniforms == null || uniforms.length != rows) {
      throw new IllegalArgumentException("need one uniform number per row");
    }
    int vocab = Math.toIntExact(logits.getShape().get(1));
    NDArray scores = logits.toType(DataType.FLOAT64, false);
    // Candidates in the order the cumulative sum runs over: every id in id order, or the best
    // top_k / all ids sorted by decreasing logit when top-p needs that order.
    NDArray candidates = null;
    boolean truncateK = options.topK() > 0 && options.topK() < vocab;
    if (truncateK) {
      NDList top = scores.topK(options.topK(), -1, true, true);
      scores = top.get(0);
      candidates = top.get(1);
    } else if (options.topP() < 1f) {
      candidates = scores.argSort(-1, false);
      scores = scores.gather(candidates, 1);
    }
    // weights = exp((logit - max) / temperature): softmax up to its normaliser
    NDArray shifted = scores.sub(scores.max(new int[] {-1}, true));
    // Dividing by 1 changes nothing: skip a pass over [rows, vocab] for plain sampling.
    NDArray weights =
        (options.temperature() == 1f ? shifted : shifted.div(options.temperature())).exp();
    NDArray cumulative = weights.cumSum(1);
    int width = Math.toIntExact(cumulative.getShape().get(1));
    NDArray total = cumulative.get(":, -1:");
    // Last index that may be drawn per row: the whole candidate list, or the nucleus (the shortest
    // prefix whose mass reaches top_p, at least one token).
    NDArray lastKept;
    NDArray keptMass;
    if (options.topP() < 1f) {
      lastKept = countTrue(cumulative.lt(total.mul(options.topP()))).minimum(width - 1);
      keptMass = cumulative.gather(lastKept, 1);
    } else {
      long[] last = new long[rows];
      Arrays.fill(last, width - 1L);
      lastKept = manager.create(last, new Shape(rows, 1));
      keptMass = total;
    }
    // The drawn position is the first whose cumulative mass exceeds u × kept mass.
    NDArray threshold = manager.create(uniforms, new Shape(rows, 1)).mul(keptMass);
    NDArray position = countTrue(cumulative.lte(threshold)).minimum(lastKept);
    return candidates == null ? position : candidates.gather(position, 1);
  }

  /** Number of true entries per row, as int64 [rows, 1]. */
  private static NDArray countTrue(NDArray mask) {
    return mask.toType(DataType.INT64, false).sum(new int[] {1}, true);
  }
}

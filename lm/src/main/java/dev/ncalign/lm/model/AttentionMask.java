package dev.ncalign.lm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Additive attention masks like HF's: 0 where a query may attend to a key, the lowest float
 * elsewhere (exp of it underflows to exactly 0, so masked padding never changes a result).
 */
public final class AttentionMask {

  /** The value added to masked scores ({@code torch.finfo(float32).min}). */
  public static final float MASKED = -Float.MAX_VALUE;

  private AttentionMask() {}

  /** Causal mask [1, 1, seq, seq]: query i sees keys 0..i. */
  public static NDArray causal(NDManager manager, int seq) {
    float[] mask = new float[seq * seq];
    for (int q = 0; q < seq; q++) {
      for (int k = q + 1; k < seq; k++) {
        mask[q * seq + k] = MASKED;
      }
    }
    return manager.create(mask, new Shape(1, 1, seq, seq));
  }

  /**
   * Mask [batch, 1, queries, keys] for left-padded rows whose queries are the last {@code queries}
   * of {@code keys} positions: query i (at key position keys - queries + i) sees keys from the
   * row's first real token up to itself.
   *
   * @param leftPadding per row, how many leading key positions are padding
   */
  public static NDArray leftPadded(NDManager manager, int[] leftPadding, int queries, int keys) {
    int batch = leftPadding.length;
    float[] mask = new float[batch * queries * keys];
    for (int b = 0; b < batch; b++) {
      for (int q = 0; q < queries; q++) {
        int queryPosition = keys - queries + q;
        for (int k = 0; k < keys; k++) {
          boolean allowed = k >= leftPadding[b] && k <= queryPosition;
          mask[(b * queries + q) * keys + k] = allowed ? 0f : MASKED;
        }
      }
    }
    return manager.create(mask, new Shape(batch, 1, queries, keys));
  }
}

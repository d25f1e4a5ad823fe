package dev.ncalign.lm.model;

import ai.djl.ndarray.NDArray;

/**
 * What every decoder layer of one forward shares, prepared once per forward instead of in each
 * layer (at the demo model's size a decode step costs its operator calls, not its arithmetic).
 *
 * @param batch rows of the forward
 * @param seq new positions per row (1 in a decode step)
 * @param rotateHalf the model's {@link RotaryEmbedding#rotateHalfMatrix}
 * @param cos rotary cos [batch or 1, 1, seq, headDim]
 * @param sin rotary sin, same shape
 * @param mask the additive attention mask shaped to broadcast over the attention scores: [batch or
 *     1, 1, 1, keys] when {@code seq} is 1 (scores [batch, kvHeads, group, keys]), else [batch or
 *     1, 1, 1, seq, keys] (scores [batch, kvHeads, group, seq, keys])
 */
record LayerInputs(
    long batch, long seq, NDArray rotateHalf, NDArray cos, NDArray sin, NDArray mask) {

  /**
   * apply_rotary_pos_emb of one of q, k [batch, heads, seq, headDim] at this forward's positions.
   */
  NDArray rotate(NDArray x) {
    return RotaryEmbedding.apply(x, cos, sin, rotateHalf);
  }

  /** Whether this forward feeds one token per row (a decode step with the KV cache). */
  boolean singlePosition() {
    return seq == 1;
  }
}

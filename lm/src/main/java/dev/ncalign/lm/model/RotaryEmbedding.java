package dev.ncalign.lm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;

/**
 * HF {@code LlamaRotaryEmbedding} (rope types default, linear and llama3, see {@link RopeScaling})
 * and {@code apply_rotary_pos_emb}: each head's vector is split in two halves that rotate together
 * (rotate_half layout, not interleaved pairs).
 */
final class RotaryEmbedding {

  private final float[] invFreq;

  RotaryEmbedding(int headDim, double theta, RopeScaling scaling) {
    // inv_freq = 1.0 / (base ** (arange(0, dim, 2).float() / dim)): each step rounded to float32
    // like HF,
    // since at long positions an ulp of inv_freq is a visible angle.
    invFreq = new float[headDim / 2];
    for (int i = 0; i < invFreq.length; i++) {
      float exponent = (float) (2 * i) / headDim;
      invFreq[i] = 1f / (float) Math.pow(theta, exponent);
    }
    scaling.apply(invFreq);
  }

  /** The inverse frequencies, one per pair of dimensions. */
  float[] invFreq() {
    return invFreq.clone();
  }

  /**
   * cos and sin of shape [batch, seq, headDim] for float32 positions of shape [batch, seq],
   * computed in float32 and then cast to {@code dtype} (the weights' type), as HF does.
   */
  NDList cosSin(NDArray positions, DataType dtype) {
    NDArray inv = positions.getManager().create(invFreq);
    // freqs = position_ids ⊗ inv_freq; emb = cat((freqs, freqs), dim=-1)
    NDArray freqs = positions.expandDims(-1).mul(inv);
    NDArray emb = freqs.concat(freqs, -1);
    if (dtype == DataType.FLOAT32) {
      return new NDList(emb.cos(), emb.sin());
    }
    return new NDList(emb.cos().toType(dtype, false), emb.sin().toType(dtype, false));
  }

  /** q_embed = q * cos + rotate_half(q) * sin, with cos/sin broadcast over heads (unsqueeze(1)). */
  static NDArray apply(NDArray x, NDArray cos, NDArray sin) {
    return x.mul(cos.expandDims(1)).add(rotateHalf(x).mul(sin.expandDims(1)));
  }

  /** rotate_half(x) = cat((-x2, x1), dim=-1) where x1, x2 are the two halves of the last axis. */
  static NDArray rotateHalf(NDArray x) {
    long half = x.getShape().get(x.getShape().dimension() - 1) / 2;
    NDArray x1 = x.get("..., :" + half);
    NDArray x2 = x.get("..., " + half + ":");
    return x2.neg().concat(x1, -1);
  }
}

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

  /**
   * rotate_half as a row-major [headDim, headDim] matrix R: {@code x · R = cat(-x2, x1)}. Every
   * output is one input times ±1 plus zeros, so the product is exact, and it is one operator call
   * where slicing out the halves, negating and concatenating are four.
   */
  static float[] rotateHalfMatrix(int headDim) {
    int half = headDim / 2;
    float[] r = new float[headDim * headDim];
    for (int i = 0; i < half; i++) {
      // output i (first half) = -x[half + i]; output half + i = x[i]
      r[(half + i) * headDim + i] = -1f;
      r[i * headDim + half + i] = 1f;
    }
    return r;
  }

  /** The inverse frequencies, one per pair of dimensions. */
  float[] invFreq() {
    return invFreq.clone();
  }

  /**
   * cos and sin of shape [batch, 1, seq, headDim] (HF's {@code unsqueeze(1)}, made once per forward
   * for every layer) for float32 positions of shape [batch, seq], computed in float32 and then cast
   * to {@code dtype} (the weights' type), as HF does.
   */
  NDList cosSin(NDArray positions, DataType dtype) {
    NDArray inv = positions.getManager().create(invFreq);
    // freqs = position_ids ⊗ inv_freq; emb = cat((freqs, freqs), dim=-1)
    NDArray freqs = positions.expandDims(-1).mul(inv);
    NDArray emb = freqs.concat(freqs, -1);
    NDArray cos = emb.cos();
    NDArray sin = emb.sin();
    if (dtype != DataType.FLOAT32) {
      cos = cos.toType(dtype, false);
      sin = sin.toType(dtype, false);
    }
    return new NDList(cos.expandDims(1), sin.expandDims(1));
  }

  /**
   * q_embed = q * cos + rotate_half(q) * sin for {@code x} [batch, heads, seq, headDim], {@code
   * cos}, {@code sin} from {@link #cosSin} and {@code rotateHalf} the {@link #rotateHalfMatrix} in
   * the weights' type.
   */
  static NDArray apply(NDArray x, NDArray cos, NDArray sin, NDArray rotateHalf) {
    return x.mul(cos).add(x.matMul(rotateHalf).mul(sin));
  }
}

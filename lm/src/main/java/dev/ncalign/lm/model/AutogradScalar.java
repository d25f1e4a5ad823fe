package dev.ncalign.lm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * A scalar operand for an op that autograd records, e.g. {@code x.mul(AutogradScalar.of(x, 0.5f))}
 * instead of {@code x.mul(0.5f)}.
 *
 * <p>Why: DJL turns a Java number into a tensor over a Java direct buffer (no copy), runs the op,
 * and closes that tensor at once. Autograd keeps it for the backward pass of mul and div, and once
 * the garbage collector frees the unreachable buffer the backward pass reads freed memory: garbage,
 * NaN or infinite gradients, more often the busier the machine (measured: every repetition of a
 * small model's backward differed while another thread called {@code System.gc()}). A scalar that
 * libtorch allocates owns its memory, so the graph keeps it alive for as long as it needs it.
 */
public final class AutogradScalar {
  private AutogradScalar() {}

  /** {@code value} as a 0-d tensor of {@code like}'s type, owned by libtorch, in its NDManager. */
  public static NDArray of(NDArray like, float value) {
    return like.getManager().full(new Shape(), value, like.getDataType());
  }
}

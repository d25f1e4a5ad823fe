package dev.ncalign.lm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;

/**
 * HF {@code LlamaRMSNorm}: {@code weight * x / sqrt(mean(x^2) + eps)}, computed in float32 and cast
 * back to the input's type before the weight multiplies it.
 */
final class LlamaRmsNorm {

  private final Parameter weight;

  /** variance_epsilon as a float32 0-d tensor, made once. */
  private final NDArray eps;

  /** The weights' type, which the input (the residual stream) always has. */
  private final DataType inputType;

  LlamaRmsNorm(WeightRegistry weights, String name, int size, double eps) {
    this.weight = weights.add(name + ".weight", size);
    this.eps = weights.constant((float) eps, DataType.FLOAT32);
    this.inputType = weights.dtype();
  }

  NDArray forward(NDArray input) {
    // hidden_states = hidden_states.to(torch.float32)
    NDArray hiddenStates =
        inputType == DataType.FLOAT32 ? input : input.toType(DataType.FLOAT32, false);
    // variance = hidden_states.pow(2).mean(-1, keepdim=True)
    NDArray variance = hiddenStates.square().mean(new int[] {-1}, true);
    // hidden_states = hidden_states * torch.rsqrt(variance + eps); DJL has no rsqrt, x / sqrt is
    // within an ulp
    NDArray normed = hiddenStates.div(variance.add(eps).sqrt());
    // self.weight * hidden_states (input first so the result stays in the caller's NDManager)
    if (inputType != DataType.FLOAT32) {
      normed = normed.toType(inputType, false);
    }
    return normed.mul(weight.getArray());
  }
}

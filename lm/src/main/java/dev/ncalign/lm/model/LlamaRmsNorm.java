package dev.ncalign.lm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;

/** HF {@code LlamaRMSNorm}: {@code weight * x / sqrt(mean(x^2) + eps)}, computed in float32. */
final class LlamaRmsNorm {

  private final Parameter weight;
  private final float eps;

  LlamaRmsNorm(WeightRegistry weights, String name, int size, double eps) {
    this.weight = weights.add(name + ".weight", size);
    this.eps = (float) eps;
  }

  NDArray forward(NDArray hiddenStates) {
    // variance = hidden_states.pow(2).mean(-1, keepdim=True)
    NDArray variance = hiddenStates.square().mean(new int[] {-1}, true);
    // hidden_states = hidden_states * torch.rsqrt(variance + eps); DJL has no rsqrt, x / sqrt is
    // within an ulp
    NDArray normed = hiddenStates.div(variance.add(eps).sqrt());
    // self.weight * hidden_states (input first so the result stays in the caller's NDManager)
    return normed.mul(weight.getArray());
  }
}

package dev.ncalign.lm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;

/** HF {@code LlamaMLP}: {@code down_proj(silu(gate_proj(x)) * up_proj(x))}, no biases. */
final class LlamaMlp {

  private final Parameter gate;
  private final Parameter up;
  private final Parameter down;

  LlamaMlp(WeightRegistry weights, String prefix, ModelConfig config) {
    gate = weights.add(prefix + "gate_proj.weight", config.intermediateSize(), config.hiddenSize());
    up = weights.add(prefix + "up_proj.weight", config.intermediateSize(), config.hiddenSize());
    down = weights.add(prefix + "down_proj.weight", config.hiddenSize(), config.intermediateSize());
  }

  NDArray forward(NDArray x, LinearAdapter adapter) {
    NDArray gated = LlamaAttention.project(x, gate, null, adapter);
    // silu(g) = g * sigmoid(g)
    NDArray activated = gated.mul(Activation.sigmoid(gated));
    return LlamaAttention.project(
        activated.mul(LlamaAttention.project(x, up, null, adapter)), down, null, adapter);
  }
}

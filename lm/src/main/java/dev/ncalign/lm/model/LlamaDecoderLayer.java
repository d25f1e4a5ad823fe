package dev.ncalign.lm.model;

import ai.djl.ndarray.NDArray;

/** HF {@code LlamaDecoderLayer}: pre-norm attention and MLP, each with a residual connection. */
final class LlamaDecoderLayer {

  private final LlamaRmsNorm inputLayernorm;
  private final LlamaAttention selfAttn;
  private final LlamaRmsNorm postAttentionLayernorm;
  private final LlamaMlp mlp;

  LlamaDecoderLayer(WeightRegistry weights, int index, ModelConfig config) {
    String prefix = "model.layers." + index + ".";
    inputLayernorm =
        new LlamaRmsNorm(
            weights, prefix + "input_layernorm", config.hiddenSize(), config.rmsNormEps());
    selfAttn = new LlamaAttention(weights, prefix + "self_attn.", index, config);
    postAttentionLayernorm =
        new LlamaRmsNorm(
            weights, prefix + "post_attention_layernorm", config.hiddenSize(), config.rmsNormEps());
    mlp = new LlamaMlp(weights, prefix + "mlp.", config);
  }

  NDArray forward(NDArray hiddenStates, LayerInputs inputs, KvCache cache, LinearAdapter adapter) {
    NDArray residual = hiddenStates;
    NDArray h = selfAttn.forward(inputLayernorm.forward(hiddenStates), inputs, cache, adapter);
    h = residual.add(h);
    residual = h;
    return residual.add(mlp.forward(postAttentionLayernorm.forward(h), adapter));
  }
}

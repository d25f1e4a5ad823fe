package dev.ncalign.lm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;

/**
 * HF {@code LlamaAttention} / {@code Qwen2Attention} (eager path): grouped-query attention with
 * rotary position embeddings, optional q/k/v (and o) biases, and an optional KV cache.
 */
final class LlamaAttention {

  private final int layerIndex;
  private final int headDim;
  private final int groupSize;
  private final long kvHeads;

  /** head_dim^-0.5 as a 0-d tensor of the weights' type, made once (see {@link AutogradScalar}). */
  private final NDArray scaling;

  /**
   * The weights' type, which is every activation's type: the embedding rows are, and a LoRA adapter
   * (float32) only works on float32 weights.
   */
  private final DataType dtype;

  private final Parameter qWeight;
  private final Parameter kWeight;
  private final Parameter vWeight;
  private final Parameter oWeight;
  private final Parameter qBias;
  private final Parameter kBias;
  private final Parameter vBias;
  private final Parameter oBias;

  LlamaAttention(WeightRegistry weights, String prefix, int layerIndex, ModelConfig config) {
    this.layerIndex = layerIndex;
    this.headDim = config.headDim();
    this.groupSize = config.groupSize();
    this.kvHeads = config.numKeyValueHeads();
    this.scaling = weights.constant((float) Math.pow(headDim, -0.5));
    this.dtype = weights.dtype();
    int hidden = config.hiddenSize();
    int qWidth = config.numAttentionHeads() * headDim;
    int kvWidth = config.numKeyValueHeads() * headDim;
    qWeight = weights.add(prefix + "q_proj.weight", qWidth, hidden);
    kWeight = weights.add(prefix + "k_proj.weight", kvWidth, hidden);
    vWeight = weights.add(prefix + "v_proj.weight", kvWidth, hidden);
    oWeight = weights.add(prefix + "o_proj.weight", hidden, qWidth);
    qBias = config.qkvBias() ? weights.add(prefix + "q_proj.bias", qWidth) : null;
    kBias = config.qkvBias() ? weights.add(prefix + "k_proj.bias", kvWidth) : null;
    vBias = config.qkvBias() ? weights.add(prefix + "v_proj.bias", kvWidth) : null;
    oBias = config.outputBias() ? weights.add(prefix + "o_proj.bias", hidden) : null;
  }

  /**
   * @param hiddenStates [batch, seq, hidden]
   * @param inputs rotary cos/sin and the mask, shared by every layer of this forward
   * @param cache past keys/values, or null
   * @param adapter added to every projection it targets, or null for the frozen weights
   */
  NDArray forward(NDArray hiddenStates, LayerInputs inputs, KvCache cache, LinearAdapter adapter) {
    long batch = inputs.batch();
    long seq = inputs.seq();
    boolean single = inputs.singlePosition();
    // q = q_proj(h).view(batch, seq, -1, head_dim).transpose(1, 2), same for k and v. With one
    // position the query goes straight into the grouped layout used below, [batch, kvHeads, group,
    // headDim]: query head j * group + g is row g of kv head j, the pairing HF's repeat_kv makes.
    NDArray query =
        single
            ? project(hiddenStates, qWeight, qBias, adapter)
                .reshape(batch, kvHeads, groupSize, headDim)
            : heads(project(hiddenStates, qWeight, qBias, adapter), batch, seq);
    NDArray key = heads(project(hiddenStates, kWeight, kBias, adapter), batch, seq);
    NDArray value = heads(project(hiddenStates, vWeight, vBias, adapter), batch, seq);
    // query, key = apply_rotary_pos_emb(query, key, cos, sin)
    query = inputs.rotate(query);
    key = inputs.rotate(key);
    // key, value = past_key_value.update(key, value, layer_idx)
    if (cache != null) {
      NDList merged = cache.update(layerIndex, key, value, seq);
      key = merged.get(0);
      value = merged.get(1);
    }
    // HF's repeat_kv copies kv head j to query heads j*n_rep .. (j+1)*n_rep-1; instead the n_rep
    // query heads of a group are stacked along the query axis and multiplied with their shared,
    // un-repeated kv head, so no copy of the cache is made per step.
    NDArray groupedQuery = single ? query : query.reshape(batch, kvHeads, groupSize * seq, headDim);
    // attn_weights = softmax(q @ k^T * scaling + causal_mask) in float32; the mask broadcasts over
    // the heads of a group (see LayerInputs for its shape).
    NDArray scaled = groupedQuery.matMul(key.transpose(0, 1, 3, 2)).mul(scaling);
    NDArray probs;
    if (single) {
      probs = scaled.add(inputs.mask()).softmax(-1);
    } else {
      probs =
          scaled
              .reshape(batch, kvHeads, groupSize, seq, -1)
              .add(inputs.mask())
              .softmax(-1)
              .reshape(batch, kvHeads, groupSize * seq, -1);
    }
    // .to(query.dtype): the float32 mask made the scores float32; back to the weights' type.
    if (dtype != DataType.FLOAT32) {
      probs = probs.toType(dtype, false);
    }
    // attn_output = (attn_weights @ v).transpose(1, 2).reshape(batch, seq, -1); o_proj. With one
    // position the grouped rows are already in head order.
    NDArray attended = probs.matMul(value);
    NDArray output =
        single
            ? attended.reshape(batch, 1, -1)
            : attended
                .reshape(batch, -1, seq, headDim)
                .transpose(0, 2, 1, 3)
                .reshape(batch, seq, -1);
    return project(output, oWeight, oBias, adapter);
  }

  /** [batch, seq, heads * headDim] to [batch, heads, seq, headDim]. */
  private NDArray heads(NDArray projected, long batch, long seq) {
    // With one position the transpose would move nothing: a view is enough.
    return seq == 1
        ? projected.reshape(batch, -1, 1, headDim)
        : projected.reshape(batch, seq, -1, headDim).transpose(0, 2, 1, 3);
  }

  /** {@code input · weightᵀ + bias}, plus what {@code adapter} (if any) adds for this layer. */
  static NDArray project(NDArray input, Parameter weight, Parameter bias, LinearAdapter adapter) {
    // Linear.linear keeps the result in the input's NDManager (the weight is the second operand).
    NDArray output =
        Linear.linear(input, weight.getArray(), bias == null ? null : bias.getArray())
            .singletonOrThrow();
    if (adapter == null) {
      return output;
    }
    String name = weight.getName();
    return adapter.adapt(name.substring(0, name.length() - ".weight".length()), input, output);
  }
}

package dev.ncalign.lm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Embedding;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * HF {@code LlamaForCausalLM} / {@code Qwen2ForCausalLM}: token embedding, decoder layers, final
 * norm, lm_head (or the embedding matrix when tied). Parameters live in the model's NDManager under
 * HF names; every intermediate result lives in the NDManager of the inputs (the caller's scope).
 */
final class LlamaForCausalLm {

  private final Parameter embedTokens;
  private final List<LlamaDecoderLayer> layers = new ArrayList<>();
  private final LlamaRmsNorm norm;
  private final Parameter lmHead;
  private final RotaryEmbedding rotaryEmb;

  /** {@link RotaryEmbedding#rotateHalfMatrix} in the weights' type. */
  private final NDArray rotateHalf;

  private final Map<String, Parameter> parameters;

  /** The weights' type, which every activation has. */
  private final DataType dtype;

  /** A model with zero weights of type {@code dtype} in {@code manager}. */
  LlamaForCausalLm(ModelConfig config, NDManager manager, DataType dtype) {
    WeightRegistry weights = new WeightRegistry(manager, dtype);
    embedTokens = weights.add("model.embed_tokens.weight", config.vocabSize(), config.hiddenSize());
    for (int i = 0; i < config.numHiddenLayers(); i++) {
      layers.add(new LlamaDecoderLayer(weights, i, config));
    }
    norm = new LlamaRmsNorm(weights, "model.norm", config.hiddenSize(), config.rmsNormEps());
    lmHead =
        config.tieWordEmbeddings()
            ? embedTokens
            : weights.add("lm_head.weight", config.vocabSize(), config.hiddenSize());
    rotaryEmb = new RotaryEmbedding(config.headDim(), config.ropeTheta(), config.ropeScaling());
    rotateHalf =
        weights.constant(
            RotaryEmbedding.rotateHalfMatrix(config.headDim()),
            new Shape(config.headDim(), config.headDim()));
    parameters = weights.parameters();
    this.dtype = dtype;
  }

  /** The inverse rotary frequencies this model uses (after {@code rope_scaling}). */
  float[] ropeInvFreq() {
    return rotaryEmb.invFreq();
  }

  /** Trainable parameters by HF tensor name (no {@code lm_head.weight} when tied). */
  Map<String, Parameter> parameters() {
    return parameters;
  }

  /**
   * Logits [batch, seq, vocab] in float32.
   *
   * @param inputIds int64 [batch, seq]
   * @param positionIds float32 [batch or 1, seq]: position of each token in its own sequence
   * @param mask additive mask [batch or 1, 1, seq, keys] (keys = cached + seq)
   * @param cache KV cache to read and extend, or null for a full forward
   * @param adapter adds to the linear layers it targets (LoRA), or null
   */
  NDArray forward(
      NDArray inputIds, NDArray positionIds, NDArray mask, KvCache cache, LinearAdapter adapter) {
    return logits(hiddenStates(inputIds, positionIds, mask, cache, adapter));
  }

  /** The final-norm hidden states [batch, seq, hidden]; arguments as for {@link #forward}. */
  NDArray hiddenStates(
      NDArray inputIds, NDArray positionIds, NDArray mask, KvCache cache, LinearAdapter adapter) {
    NDArray hidden =
        Embedding.embedding(inputIds, embedTokens.getArray(), SparseFormat.DENSE)
            .singletonOrThrow();
    LayerInputs inputs = layerInputs(inputIds, positionIds, mask);
    for (LlamaDecoderLayer layer : layers) {
      hidden =
          NoGrad.active()
              ? forwardFreeingTemporaries(layer, hidden, inputs, cache, adapter)
              : layer.forward(hidden, inputs, cache, adapter);
    }
    return norm.forward(hidden);
  }

  /** Rotary cos/sin and the mask in the shapes every layer uses, made once per forward. */
  private LayerInputs layerInputs(NDArray inputIds, NDArray positionIds, NDArray mask) {
    long[] shape = inputIds.getShape().getShape();
    NDList cosSin = rotaryEmb.cosSin(positionIds, dtype);
    // The mask gains the axis of a kv head's group of query heads; with one position the scores
    // have no seq axis (see LlamaAttention), and [batch, 1, 1, keys] already lines up with them.
    NDArray layerMask = shape[1] == 1 ? mask : mask.expandDims(1);
    return new LayerInputs(shape[0], shape[1], rotateHalf, cosSin.get(0), cosSin.get(1), layerMask);
  }

  /**
   * Without autograd nothing needs a layer's intermediate arrays once its output exists: run it in
   * a scratch manager (its input, an intermediate too, goes with it) so a long forward holds one
   * layer's temporaries at a time instead of every layer's.
   */
  private static NDArray forwardFreeingTemporaries(
      LlamaDecoderLayer layer,
      NDArray hidden,
      LayerInputs inputs,
      KvCache cache,
      LinearAdapter adapter) {
    NDManager caller = hidden.getManager();
    try (NDManager scratch = caller.newSubManager()) {
      hidden.attach(scratch);
      NDArray output = layer.forward(hidden, inputs, cache, adapter);
      output.attach(caller);
      return output;
    }
  }

  /** lm_head: final hidden states [..., hidden] to float32 logits [..., vocab]. */
  NDArray logits(NDArray hiddenStates) {
    // lm_head is never adapted (PEFT's default targets exclude it).
    NDArray logits = LlamaAttention.project(hiddenStates, lmHead, null, null);
    // logits.float(): scoring and sampling work on float32 whatever the weights' type.
    return logits.getDataType() == DataType.FLOAT32
        ? logits
        : logits.toType(DataType.FLOAT32, false);
  }
}

package dev.ncalign.lm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * The model as a DJL {@link ai.djl.nn.Block}, for code that works with blocks (parameter listing,
 * DJL's Trainer, {@code saveParameters}): input int64 token ids [batch, seq] with every row a full,
 * unpadded sequence starting at position 0; output float32 logits [batch, seq, vocab]. Its
 * parameters are the model's, under their HF names, already initialised.
 */
final class CausalLmBlock extends AbstractBlock {

  private static final byte VERSION = 1;

  private final LlamaForCausalLm model;
  private final int vocabSize;

  CausalLmBlock(LlamaForCausalLm model, int vocabSize, NDManager manager) {
    super(VERSION);
    this.model = model;
    this.vocabSize = vocabSize;
    model.parameters().values().forEach(this::addParameter);
    // Records the input description DJL expects; parameters that already hold arrays are left as
    // they are.
    initialize(manager, DataType.INT64, new Shape(1, 1));
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore parameterStore,
      NDList inputs,
      boolean training,
      PairList<String, Object> params) {
    NDArray ids = inputs.singletonOrThrow();
    int seq = Math.toIntExact(ids.getShape().get(1));
    NDManager manager = ids.getManager();
    return new NDList(
        model.forward(
            ids,
            manager.arange(0f, seq).reshape(1, seq),
            AttentionMask.causal(manager, seq),
            null,
            null));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {new Shape(inputShapes[0].get(0), inputShapes[0].get(1), vocabSize)};
  }
}

package dev.ncalign.lm.model;

import ai.djl.ndarray.NDArray;

/**
 * Something added to the output of the model's linear layers without touching their weights: a LoRA
 * adapter ({@code dev.ncalign.lm.lora.LoraAdapter}). The model stays frozen; the adapter's own
 * parameters are what a learner trains.
 */
public interface LinearAdapter extends AutoCloseable {

  /**
   * The output of linear layer {@code module} (HF module name without {@code .weight}, e.g. {@code
   * model.layers.0.self_attn.q_proj}) with this adapter, given its {@code input} and the frozen
   * layer's {@code output}; {@code output} itself when the adapter does not touch that layer.
   * Results must belong to the input's NDManager.
   */
  NDArray adapt(String module, NDArray input, NDArray output);

  /** Trainable parameters by tensor name (their arrays require gradients). */
  java.util.Map<String, ai.djl.nn.Parameter> parameters();

  /** Frees the adapter's arrays. */
  @Override
  void close();
}

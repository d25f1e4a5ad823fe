package dev.ncalign.reward.model;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The inputs and output of a sequence-classification graph that this server can feed, checked
 * against what the graph declares. Anything else is rejected at startup with a message naming it.
 *
 * @param inputs declared input names, in graph order (a subset of {@link #SUPPORTED_INPUTS})
 * @param outputs declared output names, in graph order
 */
public record ModelSignature(List<String> inputs, List<String> outputs) {

  /** Token ids, required. */
  public static final String INPUT_IDS = "input_ids";

  /** 1 for real tokens, 0 for padding. */
  public static final String ATTENTION_MASK = "attention_mask";

  /** Segment ids, fed when the graph declares them (BERT-style pair models). */
  public static final String TOKEN_TYPE_IDS = "token_type_ids";

  /** The scores output, float [batch, n]. */
  public static final String LOGITS = "logits";

  /** Inputs the server knows how to fill. */
  public static final Set<String> SUPPORTED_INPUTS =
      Set.of(INPUT_IDS, ATTENTION_MASK, TOKEN_TYPE_IDS);

  /**
   * Reads and checks the session's signature.
   *
   * @throws IllegalArgumentException naming the first input or output that cannot be served
   */
  public static ModelSignature of(OrtSession session, int labelIndex) throws OrtException {
    Map<String, NodeInfo> inputs = session.getInputInfo();
    for (Map.Entry<String, NodeInfo> input : inputs.entrySet()) {
      String name = input.getKey();
      if (!SUPPORTED_INPUTS.contains(name)) {
        throw new IllegalArgumentException(
            "model input '"
                + name
                + "' is not supported; a reward model "
                + "may only declare "
                + List.of(INPUT_IDS, ATTENTION_MASK, TOKEN_TYPE_IDS));
      }
      TensorInfo tensor = tensorInfo("input", name, input.getValue());
      if (tensor.type != OnnxJavaType.INT64 || tensor.getShape().length != 2) {
        throw new IllegalArgumentException(
            "model input '"
                + name
                + "' is "
                + describe(tensor)
                + "; expected int64 [batch, sequence]");
      }
    }
    if (!inputs.containsKey(INPUT_IDS)) {
      throw new IllegalArgumentException(
          "model has no input '" + INPUT_IDS + "' (inputs: " + inputs.keySet() + ")");
    }
    Map<String, NodeInfo> outputs = session.getOutputInfo();
    NodeInfo logits = outputs.get(LOGITS);
    if (logits == null) {
      throw new IllegalArgumentException(
          "model has no output '" + LOGITS + "' (outputs: " + outputs.keySet() + ")");
    }
    TensorInfo tensor = tensorInfo("output", LOGITS, logits);
    long[] shape = tensor.getShape();
    if (tensor.type != OnnxJavaType.FLOAT || shape.length != 2) {
      throw new IllegalArgumentException(
          "model output '" + LOGITS + "' is " + describe(tensor) + "; expected float [batch, n]");
    }
    if (shape[1] > 0 && labelIndex >= shape[1]) {
      throw new IllegalArgumentException(
          "label index "
              + labelIndex
              + " is out of range for output '"
              + LOGITS
              + "' with "
              + shape[1]
              + " columns");
    }
    return new ModelSignature(List.copyOf(inputs.keySet()), List.copyOf(outputs.keySet()));
  }

  /** Whether the graph takes {@code name}. */
  public boolean takes(String name) {
    return inputs.contains(name);
  }

  private static TensorInfo tensorInfo(String role, String name, NodeInfo node) {
    if (node.getInfo() instanceof TensorInfo tensor) {
      return tensor;
    }
    throw new IllegalArgumentException(
        "model " + role + " '" + name + "' is not a tensor: " + node.getInfo());
  }

  private static String describe(TensorInfo tensor) {
    return tensor.type.toString().toLowerCase() + " " + Arrays.toString(tensor.getShape());
  }
}

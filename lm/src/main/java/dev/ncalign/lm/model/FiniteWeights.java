package dev.ncalign.lm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import java.util.Map;

/**
 * Checks that every weight of a model is a finite number. NaN or infinite weights are well-formed
 * safetensors of the right shapes and would go live and make every sampled token garbage: the
 * policy server refuses such a push before the swap, and the learner stops rather than push or
 * checkpoint them.
 */
public final class FiniteWeights {

  private FiniteWeights() {}

  /**
   * @throws IllegalArgumentException naming the first tensor (in model order) that holds a NaN or
   *     an infinity, and how many
   */
  public static void require(CausalLm model) {
    // An adapter view's own tensors are its adapter's; the base was checked when it was loaded.
    for (Map.Entry<String, Parameter> entry : model.trainableParameters().entrySet()) {
      long bad = nonFinite(model, entry.getValue().getArray());
      if (bad > 0) {
        throw new IllegalArgumentException(
            "tensor '" + entry.getKey() + "' holds " + bad + " NaN or infinite values");
      }
    }
  }

  private static long nonFinite(CausalLm model, NDArray weights) {
    // An op's result belongs to its first operand's manager, the model's: move each result into a
    // scope that is freed at once, or a check would leak a mask the size of the model.
    try (NDManager scope = model.manager().newSubManager()) {
      NDArray nan = weights.isNaN();
      nan.attach(scope);
      NDArray infinite = weights.isInfinite();
      infinite.attach(scope);
      return nan.logicalOr(infinite).countNonzero().getLong();
    }
  }
}

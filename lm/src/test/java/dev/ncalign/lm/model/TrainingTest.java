package dev.ncalign.lm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The learner's path: logprobs under a GradientCollector, AdamW over parameters(), per-step scopes.
 */
class TrainingTest {

  @Test
  void sftStepsLowerTheLossWithoutGrowingTheModelManager() {
    try (CausalLm lm = TestModels.loadTiny()) {
      List<int[]> prompt = List.of(lm.codec().encodePrompt("the cat"));
      List<int[]> response = List.of(lm.codec().encodeResponse("sat on the mat ."));
      Optimizer adamW = Optimizer.adamW().optLearningRateTracker(Tracker.fixed(1e-2f)).build();
      BaseNDManager weights = (BaseNDManager) lm.manager();
      float first = Float.NaN;
      float last = Float.NaN;
      int managedAfterFirstStep = -1;
      for (int step = 0; step < 20; step++) {
        try (NDManager scope = lm.manager().newSubManager()) {
          float loss;
          try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray nll = lm.logprobs(scope, prompt, response, true).sums().neg().mean();
            collector.backward(nll);
            loss = nll.getFloat();
          }
          for (Map.Entry<String, Parameter> e : lm.parameters().entrySet()) {
            NDArray weight = e.getValue().getArray();
            try (NDArray gradient = weight.getGradient()) {
              adamW.update(e.getKey(), weight, gradient);
            }
          }
          first = step == 0 ? loss : first;
          last = loss;
        }
        if (step == 0) {
          // Adam's moment arrays are created in the first update; after that nothing may
          // accumulate.
          managedAfterFirstStep = weights.getManagedArrays().size();
        }
      }
      assertTrue(last < first * 0.5, "loss " + first + " -> " + last);
      assertEquals(
          managedAfterFirstStep,
          weights.getManagedArrays().size(),
          "arrays leaked into the model manager");
    }
  }
}

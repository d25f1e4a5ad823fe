package dev.ncalign.orchestrator.train;

import ai.djl.ndarray.NDManager;
import dev.ncalign.lm.model.CausalLm;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Sequence log-probs of every response of a batch under a model, without gradients, in
 * token-budgeted passes.
 */
final class SequenceScorer {
  private SequenceScorer() {}

  /**
   * log π(response | prompt) for every response, [prompt][response]; absent responses are scored
   * too.
   */
  static double[][] score(CausalLm model, List<ScoredPrompt> prompts, int tokenBudget) {
    double[][] out = new double[prompts.size()][];
    List<Integer> order = IntStream.range(0, prompts.size()).boxed().toList();
    for (List<Integer> minibatch : RewardBatch.minibatches(prompts, order, tokenBudget)) {
      FlatResponses flat = FlatResponses.of(prompts, minibatch);
      try (NDManager scope = model.manager().newSubManager()) {
        float[] sums =
            model
                .logprobs(scope, flat.promptIds(), flat.responseIds(), false)
                .sums()
                .toFloatArray();
        int at = 0;
        for (int index : minibatch) {
          double[] row = new double[prompts.get(index).responses().size()];
          for (int k = 0; k < row.length; k++) {
            row[k] = sums[at++];
          }
          out[index] = row;
        }
      }
    }
    return out;
  }

  /** The responses of some prompts as the parallel id lists {@link CausalLm#logprobs} takes. */
  record FlatResponses(List<int[]> promptIds, List<int[]> responseIds) {
    static FlatResponses of(List<ScoredPrompt> prompts, List<Integer> indices) {
      List<int[]> p = new ArrayList<>();
      List<int[]> r = new ArrayList<>();
      for (int index : indices) {
        ScoredPrompt prompt = prompts.get(index);
        for (ScoredResponse response : prompt.responses()) {
          p.add(prompt.promptIds());
          r.add(response.tokenIds());
        }
      }
      return new FlatResponses(p, r);
    }
  }
}

package dev.ncalign.orchestrator.train;

import java.util.ArrayList;
import java.util.List;

/**
 * How one epoch of a round is cut into optimizer steps: its prompts, in the epoch's order, go into
 * token-budgeted minibatches (one forward/backward pass each), and every {@code accumulation}
 * consecutive minibatches make one step. A step never spans two epochs, and the last one may hold
 * fewer minibatches; {@link Learner} weighs every prompt of a step equally whatever the cut.
 */
final class OptimizerSteps {
  private OptimizerSteps() {}

  /**
   * The steps of one epoch, each a list of minibatches of prompt indices.
   *
   * @param order the epoch's (shuffled) prompt indices
   */
  static List<List<List<Integer>>> of(
      List<ScoredPrompt> prompts, List<Integer> order, int tokenBudget, int accumulation) {
    List<List<Integer>> minibatches = RewardBatch.minibatches(prompts, order, tokenBudget);
    List<List<List<Integer>>> steps = new ArrayList<>();
    for (int from = 0; from < minibatches.size(); from += accumulation) {
      steps.add(minibatches.subList(from, Math.min(minibatches.size(), from + accumulation)));
    }
    return steps;
  }

  /**
   * Prompts that take part in the loss: those with at least two present responses (the others
   * contribute nothing, see {@code AlignmentLosses}).
   */
  static int contributing(List<ScoredPrompt> prompts, List<Integer> indices) {
    return (int) indices.stream().filter(i -> prompts.get(i).presentCount() >= 2).count();
  }
}

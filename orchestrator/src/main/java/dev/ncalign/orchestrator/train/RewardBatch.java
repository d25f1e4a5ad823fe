package dev.ncalign.orchestrator.train;

import java.util.ArrayList;
import java.util.List;

/**
 * The prompts of one update round with their scored responses.
 *
 * <p>Responses with a non-finite reward stay in the batch (so indices match what was sampled) but
 * are masked out of every loss: they never reach the optimizer, and {@link #dropped()} counts them.
 */
public record RewardBatch(List<ScoredPrompt> prompts) {

  public RewardBatch {
    prompts = List.copyOf(prompts);
  }

  /** Responses whose reward was not finite. */
  public int dropped() {
    return prompts.stream().mapToInt(p -> p.responses().size() - p.presentCount()).sum();
  }

  /** Mean reward of the responses whose reward is finite (NaN when there is none). */
  public double meanReward() {
    return responses().stream()
        .filter(ScoredResponse::present)
        .mapToDouble(ScoredResponse::reward)
        .average()
        .orElse(Double.NaN);
  }

  /** All responses, prompt by prompt. */
  public List<ScoredResponse> responses() {
    List<ScoredResponse> all = new ArrayList<>();
    prompts.forEach(p -> all.addAll(p.responses()));
    return all;
  }

  /**
   * Splits prompt indices into minibatches of at most {@code tokenBudget} tokens each (a prompt
   * that alone exceeds the budget gets a minibatch of its own), so memory stays flat whatever P and
   * K are.
   */
  public static List<List<Integer>> minibatches(
      List<ScoredPrompt> prompts, List<Integer> order, int tokenBudget) {
    List<List<Integer>> batches = new ArrayList<>();
    List<Integer> current = new ArrayList<>();
    int tokens = 0;
    for (int index : order) {
      int cost = prompts.get(index).tokenCost();
      if (!current.isEmpty() && tokens + cost > tokenBudget) {
        batches.add(current);
        current = new ArrayList<>();
        tokens = 0;
      }
      current.add(index);
      tokens += cost;
    }
    if (!current.isEmpty()) {
      batches.add(current);
    }
    return batches;
  }
}

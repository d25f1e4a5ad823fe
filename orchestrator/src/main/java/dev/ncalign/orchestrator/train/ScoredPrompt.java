package dev.ncalign.orchestrator.train;

import dev.ncalign.orchestrator.loss.PairChoice;
import java.util.List;

/**
 * A prompt with the K responses scored for it: one row of the [B, K] arrays the losses take.
 *
 * @param prompt the prompt text
 * @param promptIds its token ids, encoded with the tokenizer's special-token rules
 * @param responses the scored responses, K ≥ 1 (K may differ between prompts)
 */
public record ScoredPrompt(String prompt, int[] promptIds, List<ScoredResponse> responses) {

  public ScoredPrompt {
    if (responses.isEmpty()) {
      throw new IllegalArgumentException("prompt '" + prompt + "' has no responses");
    }
    responses = List.copyOf(responses);
  }

  /** Tokens the policy reads to score every response of this prompt (its cost in a minibatch). */
  public int tokenCost() {
    int total = 0;
    for (ScoredResponse r : responses) {
      total += promptIds.length + r.tokenIds().length;
    }
    return total;
  }

  /** Index of the present response with the highest reward (ties: lowest index), or −1. */
  public int best() {
    return pairChoice().chosen();
  }

  /** Index of the present response with the lowest reward (ties: highest index), or −1. */
  public int worst() {
    return pairChoice().rejected();
  }

  /** The best/worst pair the pairwise losses train on for this prompt (one tie rule for both). */
  public PairChoice pairChoice() {
    float[] rewards = new float[responses.size()];
    boolean[] present = new boolean[responses.size()];
    for (int i = 0; i < rewards.length; i++) {
      rewards[i] = responses.get(i).reward();
      present[i] = responses.get(i).present();
    }
    return PairChoice.of(rewards, present, 0, rewards.length);
  }

  /** Responses whose reward is finite. */
  public int presentCount() {
    return (int) responses.stream().filter(ScoredResponse::present).count();
  }
}

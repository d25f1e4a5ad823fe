package dev.ncalign.orchestrator.train;

/**
 * One response to a prompt with its explicit reward.
 *
 * @param text the response text
 * @param tokenIds the response's token ids under the policy's tokenizer (as sampled, eos included when sampled)
 * @param reward the reward model's score; a non-finite value marks the response absent for training
 */
public record ScoredResponse(String text, int[] tokenIds, float reward) {

  /** Whether the reward can be trained on. */
  public boolean present() {
    return Float.isFinite(reward);
  }
}

package dev.ncalign.orchestrator.train;

import dev.ncalign.proto.v1.FinishReason;

/**
 * How the policy server produced a response, as its {@code Completion} said.
 *
 * @param version the policy version that sampled it
 * @param finishReason STOP (eos or a stop string: the ids end where the response ended) or LENGTH
 *     (cut off at max_new_tokens: no eos)
 * @param tokenLogprobs log π(token | prefix) of each response token under that version at
 *     temperature 1, one per token id
 */
public record Sample(long version, FinishReason finishReason, float[] tokenLogprobs) {

  /** Σ of the per-token log-probs: the sequence log-prob under the version that sampled it. */
  public double sumLogprob() {
    double sum = 0;
    for (float lp : tokenLogprobs) {
      sum += lp;
    }
    return sum;
  }
}

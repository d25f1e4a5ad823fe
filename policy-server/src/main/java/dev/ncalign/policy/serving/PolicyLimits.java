package dev.ncalign.policy.serving;

/**
 * Request bounds of one server, reported by GetInfo.
 *
 * @param maxNumSamples largest K per Generate
 * @param maxPrompts largest number of prompts per Generate
 * @param defaultMaxNewTokens max_new_tokens when a request leaves it 0 (cut to fit the context)
 * @param maxWeightBytes largest weight file accepted by PushWeights
 */
public record PolicyLimits(
    int maxNumSamples, int maxPrompts, int defaultMaxNewTokens, long maxWeightBytes) {

  public PolicyLimits {
    if (maxNumSamples < 1 || maxPrompts < 1 || defaultMaxNewTokens < 1 || maxWeightBytes < 1) {
      throw new IllegalArgumentException("limits must be ≥ 1");
    }
  }

  /** Largest number of ComputeLogprobs items: one full Generate's worth. */
  public int maxLogprobItems() {
    return maxNumSamples * maxPrompts;
  }
}

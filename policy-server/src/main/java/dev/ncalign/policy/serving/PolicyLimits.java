package dev.ncalign.policy.serving;

import dev.ncalign.serving.TextLimit;

/**
 * Request bounds of one server, reported by GetInfo.
 *
 * @param maxNumSamples largest K per Generate
 * @param maxPrompts largest number of prompts per Generate
 * @param defaultMaxNewTokens max_new_tokens when a request leaves it 0 (cut to fit the context)
 * @param maxWeightBytes largest weight file accepted by PushWeights
 * @param text most characters in one prompt or response, checked before tokenizing
 */
public record PolicyLimits(
    int maxNumSamples,
    int maxPrompts,
    int defaultMaxNewTokens,
    long maxWeightBytes,
    TextLimit text) {

  public PolicyLimits {
    if (maxNumSamples < 1 || maxPrompts < 1 || defaultMaxNewTokens < 1 || maxWeightBytes < 1) {
      throw new IllegalArgumentException("limits must be ≥ 1");
    }
    if (text == null) {
      throw new IllegalArgumentException("limits need a text limit");
    }
  }

  /** Largest number of ComputeLogprobs items: one full Generate's worth. */
  public int maxLogprobItems() {
    return maxNumSamples * maxPrompts;
  }
}

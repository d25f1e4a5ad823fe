package dev.ncalign.orchestrator.source;

import dev.ncalign.orchestrator.client.PolicyClient.Slicing;
import dev.ncalign.orchestrator.train.RewardBatch;

/**
 * Fresh scored samples of the live policy on the held-out prompts, with one seed for the whole run:
 * how both modes measure progress the same way. The samples' own log-probs are half of the run's KL
 * estimate, so they are sliced by the server limit alone and come out the same bytes however many
 * policy replicas run.
 */
public final class HeldOutEvaluator {
  private final OnlineSampler sampler;
  private final PromptSet prompts;
  private final long seed;

  public HeldOutEvaluator(OnlineSampler sampler, PromptSet prompts, long seed) {
    this.sampler = sampler;
    this.prompts = prompts;
    this.seed = seed;
  }

  /** Samples on {@code count} held-out prompts. */
  public RewardBatch evaluate(int count) {
    return sampler
        .sample(prompts.evalPrompts(count), seed * 104_729L, Slicing.SERVER_LIMIT)
        .batch();
  }

  /** Whether the samples are π_θ's own, so they can estimate its KL (see {@link OnlineSampler}). */
  public boolean samplesPolicyAsIs() {
    return sampler.samplesPolicyAsIs();
  }
}

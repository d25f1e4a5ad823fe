package dev.ncalign.orchestrator.source;

import dev.ncalign.orchestrator.train.RewardBatch;

/**
 * A round's training data as it left its source, and what producing it cost: the prompts with their
 * token ids, each response's token ids (as the sampler produced them), per-token log-probs, finish
 * reason and reward (see {@link dev.ncalign.orchestrator.train.ScoredResponse}), and the version
 * they were sampled from.
 *
 * @param sampledVersion the policy version that produced the responses; null for a fixed dataset
 * @param generatedTokens response tokens generated for this batch (0 for a fixed dataset)
 */
public record Rollout(
    RewardBatch batch,
    Long sampledVersion,
    double generateSeconds,
    double scoreSeconds,
    long generatedTokens) {

  /** A batch that was read, not sampled. */
  public static Rollout fixed(RewardBatch batch) {
    return new Rollout(batch, null, 0, 0, 0);
  }

  /** Generated tokens per second of generation time (0 when nothing was generated). */
  public double tokensPerSecond() {
    return generateSeconds > 0 ? generatedTokens / generateSeconds : 0;
  }
}

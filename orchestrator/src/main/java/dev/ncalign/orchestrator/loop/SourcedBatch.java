package dev.ncalign.orchestrator.loop;

import dev.ncalign.orchestrator.train.RewardBatch;

/**
 * A round's training batch and what producing it cost.
 *
 * @param policyVersion the policy version that produced the responses (0 for a fixed dataset)
 * @param generatedTokens response tokens generated for this batch (0 for a fixed dataset)
 */
public record SourcedBatch(
    RewardBatch batch,
    long policyVersion,
    double generateSeconds,
    double scoreSeconds,
    long generatedTokens) {}

package dev.ncalign.orchestrator.store;

import dev.ncalign.orchestrator.config.Mode;

/**
 * One row of {@code metrics.jsonl}: what one round (online) or one evaluation step (offline) did.
 * JSON keys are the snake_case component names. Log-probs are sequence log-probs in nats;
 * "best"/"worst" are the means over prompts of the highest- and lowest-reward response, before and
 * after the update (the NCA paper's likelihood diagnostic: InfoNCA/DPO tend to push both down, NCA
 * keeps the best one up).
 *
 * @param round round number, the same number passed to {@link RunStore#markCheckpoint}
 * @param policyVersion version the round's samples came from
 * @param step optimizer steps taken since the start of the run, after this round
 * @param kl estimate of KL(pi_theta || pi_ref) on this round's samples
 * @param meanLength mean response length in tokens
 * @param distinct2 distinct bigrams / all bigrams over the round's responses (collapses under
 *     reward hacking)
 * @param dropped responses whose reward was not finite, left out of the loss
 * @param tokensPerSecond generated tokens per second of generation time
 * @param evalReward mean reward on the held-out prompts, when the round evaluated them; null
 *     otherwise
 */
public record RoundMetrics(
    int round,
    Mode mode,
    long policyVersion,
    long step,
    double meanReward,
    double minReward,
    double maxReward,
    double loss,
    double bestLogpBefore,
    double bestLogpAfter,
    double worstLogpBefore,
    double worstLogpAfter,
    double kl,
    double meanLength,
    double distinct2,
    int dropped,
    double generateSeconds,
    double scoreSeconds,
    double learnSeconds,
    double pushSeconds,
    double tokensPerSecond,
    Double evalReward) {}

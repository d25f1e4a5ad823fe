package dev.ncalign.orchestrator.train;

/**
 * What one update round did, including the paper's likelihood diagnostic: the mean sequence
 * log-prob of each prompt's best and worst response before and after the update. NCA should raise
 * the best one; InfoNCA/DPO may let it fall while only the gap to the worst grows.
 *
 * @param loss mean loss over the round's prompts, each counted once per epoch (NaN when no prompt
 *     had two present responses)
 * @param bestLogpBefore mean log π(best response | prompt) before the update, nats
 * @param bestLogpAfter the same after the update
 * @param worstLogpBefore mean log π(worst response | prompt) before the update
 * @param worstLogpAfter the same after the update
 * @param optimizerSteps optimizer steps taken this round
 * @param gradNorm mean global gradient norm before clipping
 */
public record RoundUpdate(
    double loss,
    double bestLogpBefore,
    double bestLogpAfter,
    double worstLogpBefore,
    double worstLogpAfter,
    int optimizerSteps,
    double gradNorm) {}

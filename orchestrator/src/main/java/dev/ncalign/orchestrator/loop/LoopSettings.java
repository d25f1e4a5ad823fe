package dev.ncalign.orchestrator.loop;

/**
 * How long the loop runs and when it evaluates and checkpoints.
 *
 * @param rounds the last round to run (1-based, inclusive)
 * @param checkpointEvery write a checkpoint every N rounds (and after the last)
 * @param evalEvery evaluate on held-out prompts every N rounds (and after the last); 0 = never
 * @param evalCount held-out prompts per evaluation
 * @param seed the run's seed; every round's randomness derives from it and the round number
 * @param maxStaleness N: round r samples the weights published after round r − 1 − N (see {@link
 *     RolloutPipeline}); 0 is the synchronous loop
 */
public record LoopSettings(
    int rounds, int checkpointEvery, int evalEvery, int evalCount, long seed, int maxStaleness) {

  /** Whether round {@code round} ends with an evaluation. */
  public boolean evalDue(int round) {
    return evalEvery > 0 && evalCount > 0 && (round % evalEvery == 0 || round == rounds);
  }
}

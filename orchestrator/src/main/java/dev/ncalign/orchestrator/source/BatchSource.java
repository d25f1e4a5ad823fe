package dev.ncalign.orchestrator.source;

/**
 * Where a round's scored responses come from: fresh samples (online) or a fixed dataset (offline).
 */
public interface BatchSource {
  /**
   * The batch of round {@code round} (1-based); a function of the round number, so resuming replays
   * it.
   */
  Rollout next(int round);
}

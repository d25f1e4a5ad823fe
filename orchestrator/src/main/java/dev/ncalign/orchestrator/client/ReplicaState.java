package dev.ncalign.orchestrator.client;

/** Where a replica stands with its client. */
public enum ReplicaState {
  /** Receives calls. */
  UP,
  /** Failed a call or a health check (or just appeared); health-checked until it is back. */
  DOWN,
  /**
   * Serves, but not something calls may use: another model than the learner's, or a version that
   * cannot be brought to the live one. Checked again on every health round.
   */
  REFUSED
}

package dev.ncalign.orchestrator.loop;

import dev.ncalign.orchestrator.store.RoundMetrics;
import dev.ncalign.orchestrator.train.RewardBatch;

/** Told about every completed round: the terminal progress line, the dashboard. */
public interface RoundListener {
  /** Round {@code metrics.round()} is recorded; {@code batch} is what it trained on. */
  void roundCompleted(RoundMetrics metrics, RewardBatch batch);
}

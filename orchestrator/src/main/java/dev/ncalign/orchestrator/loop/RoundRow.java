package dev.ncalign.orchestrator.loop;

import dev.ncalign.orchestrator.client.Published;
import dev.ncalign.orchestrator.config.Mode;
import dev.ncalign.orchestrator.source.ResponseStats;
import dev.ncalign.orchestrator.source.Rollout;
import dev.ncalign.orchestrator.store.RoundMetrics;
import dev.ncalign.orchestrator.train.RewardBatch;
import dev.ncalign.orchestrator.train.RoundUpdate;
import dev.ncalign.orchestrator.train.ScoredResponse;
import java.util.DoubleSummaryStatistics;

/**
 * The metrics row of one round, built only from the round's record as it flowed: the {@link
 * Rollout} it trained on, the {@link RoundUpdate} the learner made, the weights it {@link
 * Published}, and the held-out evaluation when there was one, which may come in later.
 */
final class RoundRow {
  private RoundRow() {}

  /**
   * Sets the row's held-out columns from what the evaluation after the update measured: the mean
   * reward of its fresh samples, their KL estimate and the evaluation's seconds.
   */
  static RoundMetrics.Builder evaluated(RoundMetrics.Builder row, RolloutPipeline.HeldOut heldOut) {
    return row.evalReward(heldOut.samples().meanReward())
        .kl(heldOut.kl())
        .evalSeconds(heldOut.seconds());
  }

  /** The row's builder with everything the round's record says; the loop adds its timings. */
  static RoundMetrics.Builder of(
      int round,
      Mode mode,
      Rollout rollout,
      RoundUpdate update,
      double learnSeconds,
      long totalSteps,
      Published published) {
    RewardBatch batch = rollout.batch();
    DoubleSummaryStatistics rewards =
        batch.responses().stream()
            .filter(ScoredResponse::present)
            .mapToDouble(ScoredResponse::reward)
            .summaryStatistics();
    ResponseStats stats = ResponseStats.of(batch.responses());
    return RoundMetrics.builder()
        .round(round)
        .mode(mode)
        .sampledVersion(rollout.sampledVersion())
        .liveVersion(published.version())
        .step(totalSteps)
        .meanReward(orNaN(rewards, rewards.getAverage()))
        .minReward(orNaN(rewards, rewards.getMin()))
        .maxReward(orNaN(rewards, rewards.getMax()))
        .loss(update.loss())
        .bestLogpBefore(update.bestLogpBefore())
        .bestLogpAfter(update.bestLogpAfter())
        .worstLogpBefore(update.worstLogpBefore())
        .worstLogpAfter(update.worstLogpAfter())
        .meanLength(stats.meanLength())
        .distinct2(stats.distinct2())
        .dropped(batch.dropped())
        .optimizerSteps(update.optimizerSteps())
        .gradNorm(update.gradNorm())
        .generateSeconds(rollout.generateSeconds())
        .scoreSeconds(rollout.scoreSeconds())
        .learnSeconds(learnSeconds)
        .pushSeconds(published.seconds())
        .pushBytes(published.bytes())
        .tokensPerSecond(rollout.tokensPerSecond());
  }

  private static double orNaN(DoubleSummaryStatistics stats, double value) {
    return stats.getCount() == 0 ? Double.NaN : value;
  }
}

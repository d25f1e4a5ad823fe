package dev.ncalign.orchestrator.loop;

import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.orchestrator.client.PolicyClient;
import dev.ncalign.orchestrator.config.Mode;
import dev.ncalign.orchestrator.store.RoundMetrics;
import dev.ncalign.orchestrator.store.RunStore;
import dev.ncalign.orchestrator.store.SampleRecord;
import dev.ncalign.orchestrator.train.Learner;
import dev.ncalign.orchestrator.train.RewardBatch;
import dev.ncalign.orchestrator.train.RoundUpdate;
import dev.ncalign.orchestrator.train.ScoredResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.DoubleSummaryStatistics;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The round loop shared by online and offline training: take a batch from the {@link BatchSource},
 * update the policy, push version v+1 to every policy replica, evaluate on held-out prompts when
 * due, record the round, checkpoint when due.
 *
 * <p>Every random choice of round r depends only on (seed, r), so a run resumed from a checkpoint
 * replays exactly what the interrupted run would have done.
 */
public final class AlignmentLoop {
  /** Name of the optimizer state inside a checkpoint directory. */
  public static final String OPTIMIZER_FILE = "optimizer.safetensors";

  private static final Logger LOG = LoggerFactory.getLogger(AlignmentLoop.class);

  private final Mode mode;
  private final BatchSource source;
  private final Learner learner;
  private final CausalLm policy;
  private final PolicyClient policyClient;
  private final OnlineSampler evaluator;
  private final RunStore store;
  private final LoopSettings settings;
  private final List<RoundListener> listeners;
  private long liveVersion;

  /**
   * @param liveVersion the version the policy replicas serve now, equal to the learner's weights
   */
  public AlignmentLoop(
      Mode mode,
      BatchSource source,
      Learner learner,
      CausalLm policy,
      PolicyClient policyClient,
      OnlineSampler evaluator,
      RunStore store,
      LoopSettings settings,
      List<RoundListener> listeners,
      long liveVersion) {
    this.mode = mode;
    this.source = source;
    this.learner = learner;
    this.policy = policy;
    this.policyClient = policyClient;
    this.evaluator = evaluator;
    this.store = store;
    this.settings = settings;
    this.listeners = new CopyOnWriteArrayList<>(listeners);
    this.liveVersion = liveVersion;
  }

  /** Runs rounds {@code first} to {@code settings.rounds()}, inclusive. */
  public void run(int first) {
    for (int round = first; round <= settings.rounds(); round++) {
      runRound(round);
    }
  }

  /** One round, recorded; the policy replicas serve the updated weights when it returns. */
  public RoundMetrics runRound(int round) {
    learner.reseed(settings.seed() * 1_000_033L + round);
    SourcedBatch sourced = source.next(round);
    RewardBatch batch = sourced.batch();
    long sampledVersion = mode == Mode.ONLINE ? sourced.policyVersion() : liveVersion;

    long learnStart = System.nanoTime();
    RoundUpdate update = learner.update(batch);
    double learnSeconds = (System.nanoTime() - learnStart) / 1e9;

    long pushStart = System.nanoTime();
    liveVersion = Math.max(liveVersion, sampledVersion) + 1;
    PolicyWeights.of(policy).pushTo(policyClient, liveVersion);
    double pushSeconds = (System.nanoTime() - pushStart) / 1e9;

    RewardBatch evaluation =
        settings.evalDue(round) ? evaluator.evaluationBatch(settings.evalCount()) : null;
    // Online, the round's own samples came from the policy, so their KL estimate is on-policy;
    // offline
    // they did not, and only fresh evaluation samples (from the updated policy) give an honest
    // estimate.
    double kl =
        mode == Mode.ONLINE
            ? update.kl()
            : evaluation != null ? learner.kl(evaluation) : Double.NaN;
    RoundMetrics metrics =
        metrics(
            round,
            sampledVersion,
            sourced,
            update,
            kl,
            learnSeconds,
            pushSeconds,
            evaluation == null ? null : evaluation.meanReward());
    store.appendMetrics(metrics);
    store.appendSamples(SampleRecord.of(round, sampledVersion, batch));
    if (round % settings.checkpointEvery() == 0 || round == settings.rounds()) {
      checkpoint(round);
    }
    LOG.info(
        "round {} v{} reward {} loss {} best {} -> {} worst {} -> {} kl {}",
        round,
        sampledVersion,
        fmt(metrics.meanReward()),
        fmt(update.loss()),
        fmt(update.bestLogpBefore()),
        fmt(update.bestLogpAfter()),
        fmt(update.worstLogpBefore()),
        fmt(update.worstLogpAfter()),
        fmt(metrics.kl()));
    listeners.forEach(l -> l.roundCompleted(metrics, batch));
    return metrics;
  }

  /** Adds a listener for the rounds still to run. */
  public void addListener(RoundListener listener) {
    listeners.add(listener);
  }

  /** The version the policy replicas serve now. */
  public long liveVersion() {
    return liveVersion;
  }

  private void checkpoint(int round) {
    Path dir = store.checkpointDir(round);
    PolicyWeights.save(policy, dir);
    try {
      learner.optimizer().save(dir.resolve(OPTIMIZER_FILE));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot save optimizer state in " + dir, e);
    }
    store.markCheckpoint(round, liveVersion, learner.optimizer().steps(), "");
  }

  private RoundMetrics metrics(
      int round,
      long version,
      SourcedBatch sourced,
      RoundUpdate update,
      double kl,
      double learnSeconds,
      double pushSeconds,
      Double evalReward) {
    RewardBatch batch = sourced.batch();
    DoubleSummaryStatistics rewards =
        batch.responses().stream()
            .filter(ScoredResponse::present)
            .mapToDouble(ScoredResponse::reward)
            .summaryStatistics();
    ResponseStats stats = ResponseStats.of(batch.responses());
    double tokensPerSecond =
        sourced.generateSeconds() > 0 ? sourced.generatedTokens() / sourced.generateSeconds() : 0;
    return new RoundMetrics(
        round,
        mode,
        version,
        learner.optimizer().steps(),
        orNaN(rewards, rewards.getAverage()),
        orNaN(rewards, rewards.getMin()),
        orNaN(rewards, rewards.getMax()),
        update.loss(),
        update.bestLogpBefore(),
        update.bestLogpAfter(),
        update.worstLogpBefore(),
        update.worstLogpAfter(),
        kl,
        stats.meanLength(),
        stats.distinct2(),
        batch.dropped(),
        sourced.generateSeconds(),
        sourced.scoreSeconds(),
        learnSeconds,
        pushSeconds,
        tokensPerSecond,
        evalReward);
  }

  private static double orNaN(DoubleSummaryStatistics stats, double value) {
    return stats.getCount() == 0 ? Double.NaN : value;
  }

  private static String fmt(double value) {
    return String.format("%.3f", value);
  }
}

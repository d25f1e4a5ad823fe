package dev.ncalign.orchestrator.loop;

import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.lm.model.FiniteWeights;
import dev.ncalign.orchestrator.client.Published;
import dev.ncalign.orchestrator.client.WeightPublisher;
import dev.ncalign.orchestrator.config.Mode;
import dev.ncalign.orchestrator.source.BatchSource;
import dev.ncalign.orchestrator.source.HeldOutEvaluator;
import dev.ncalign.orchestrator.source.Rollout;
import dev.ncalign.orchestrator.store.RoundMetrics;
import dev.ncalign.orchestrator.store.RunStore;
import dev.ncalign.orchestrator.store.SampleRecord;
import dev.ncalign.orchestrator.train.Learner;
import dev.ncalign.orchestrator.train.RewardBatch;
import dev.ncalign.orchestrator.train.RoundUpdate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The round loop shared by online and offline training. One record per round flows one way: the
 * {@link BatchSource}'s {@link Rollout} → the learner's {@link RoundUpdate} → the weights the
 * {@link WeightPublisher} {@link Published} → the held-out evaluation when due → the metrics row
 * built from those; then a checkpoint when due.
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
  private final WeightPublisher publisher;
  private final HeldOutEvaluator evaluator;
  private final RunStore store;
  private final LoopSettings settings;
  private final List<RoundListener> listeners;

  /**
   * @param publisher streams {@code policy}'s weights to the replicas, which serve them now
   */
  public AlignmentLoop(
      Mode mode,
      BatchSource source,
      Learner learner,
      CausalLm policy,
      WeightPublisher publisher,
      HeldOutEvaluator evaluator,
      RunStore store,
      LoopSettings settings,
      List<RoundListener> listeners) {
    this.mode = mode;
    this.source = source;
    this.learner = learner;
    this.policy = policy;
    this.publisher = publisher;
    this.evaluator = evaluator;
    this.store = store;
    this.settings = settings;
    this.listeners = new CopyOnWriteArrayList<>(listeners);
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
    Rollout rollout = source.next(round);
    RewardBatch batch = rollout.batch();

    long learnStart = System.nanoTime();
    RoundUpdate update = learner.update(batch);
    double learnSeconds = (System.nanoTime() - learnStart) / 1e9;
    requireFiniteWeights(round);

    // Offline there is no sampled version: the push goes one above the live one.
    Published published =
        publisher.publish(
            rollout.sampledVersion() == null ? publisher.liveVersion() : rollout.sampledVersion());
    RoundMetrics metrics =
        RoundRow.of(
            round,
            mode,
            rollout,
            update,
            learnSeconds,
            learner.optimizer().steps(),
            published,
            settings.evalDue(round) ? evaluate() : null);
    store.appendMetrics(metrics);
    store.appendSamples(SampleRecord.of(round, batch));
    if (round % settings.checkpointEvery() == 0 || round == settings.rounds()) {
      checkpoint(round);
    }
    LOG.info(
        "round {} v{} reward {} loss {} best {} -> {} worst {} -> {} kl {} pushed {} bytes",
        round,
        metrics.liveVersion(),
        fmt(metrics.meanReward()),
        fmt(update.loss()),
        fmt(update.bestLogpBefore()),
        fmt(update.bestLogpAfter()),
        fmt(update.worstLogpBefore()),
        fmt(update.worstLogpAfter()),
        fmt(metrics.kl()),
        published.bytes());
    listeners.forEach(l -> l.roundCompleted(metrics, batch));
    return metrics;
  }

  /**
   * Fresh samples of the updated policy on held-out prompts: their mean reward, and the one KL the
   * run reports, KL(π_θ‖π_ref) of the updated policy estimated on those samples. Both modes measure
   * it the same way, so online and offline KLs compare; it is NaN when sampling is not plain π_θ
   * sampling, where the mean log-ratio of the samples is not a KL estimate.
   */
  private RoundRow.Evaluation evaluate() {
    RewardBatch evaluation = evaluator.evaluate(settings.evalCount());
    double kl = evaluator.samplesPolicyAsIs() ? learner.kl(evaluation) : Double.NaN;
    return new RoundRow.Evaluation(evaluation.meanReward(), kl);
  }

  /**
   * Stops the run, before anything is pushed or checkpointed, when an update left a NaN or an
   * infinity in the weights: the replicas keep serving the last good version and the last
   * checkpoint stays the one to resume from.
   */
  private void requireFiniteWeights(int round) {
    try {
      FiniteWeights.require(policy);
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(
          "round "
              + round
              + ": the update left non-finite weights ("
              + e.getMessage()
              + "); nothing was pushed or checkpointed, resume from the last checkpoint with a"
              + " lower optimizer.lr",
          e);
    }
  }

  /** Adds a listener for the rounds still to run. */
  public void addListener(RoundListener listener) {
    listeners.add(listener);
  }

  private void checkpoint(int round) {
    Path dir = store.checkpointDir(round);
    PolicyWeights.save(policy, dir);
    try {
      learner.optimizer().save(dir.resolve(OPTIMIZER_FILE));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot save optimizer state in " + dir, e);
    }
    store.markCheckpoint(round, publisher.liveVersion(), learner.optimizer().steps());
  }

  private static String fmt(double value) {
    return String.format("%.3f", value);
  }
}

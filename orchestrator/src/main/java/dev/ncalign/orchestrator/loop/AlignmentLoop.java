package dev.ncalign.orchestrator.loop;

import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.lm.model.FiniteWeights;
import dev.ncalign.lm.model.TextCodec;
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
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The round loop shared by online and offline training. One record per round flows one way: the
 * {@link BatchSource}'s {@link Rollout} → the learner's {@link RoundUpdate} → the weights the
 * {@link WeightPublisher} {@link Published} → the held-out evaluation when due → the metrics row
 * built from those; then a checkpoint when due.
 *
 * <p>Rows are written in round order. With {@code loop.max_staleness} N ≥ 1 the learner does not
 * wait for a round's held-out evaluation, which the sampler runs while the learner trains the next
 * round: that row is written one round later, with the next one. A checkpoint round and the last
 * round wait, so a checkpoint always follows every row up to its round.
 *
 * <p>Rollouts come from a {@link RolloutPipeline}: with {@code loop.max_staleness} N ≥ 1 the next
 * rounds are sampled and scored while the learner trains, each on a version fixed by N and its
 * round number. Every random choice of round r depends only on (seed, r), and a checkpoint carries
 * the rollouts sampled ahead of it, so a run resumed from a checkpoint replays exactly what the
 * interrupted run would have done.
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

  /** Rows of published rounds not yet written, in round order. */
  private final Deque<PendingRow> pending = new ArrayDeque<>();

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

  /** Runs rounds {@code first} to {@code settings.rounds()}, inclusive, from a fresh start. */
  public void run(int first) {
    run(first, Map.of());
  }

  /**
   * Runs rounds {@code first} to {@code settings.rounds()}, inclusive; {@code ahead} holds the
   * rollouts a resumed checkpoint carried for the rounds sampled ahead of it ({@link
   * #rolloutsAhead}).
   */
  public void run(int first, Map<Integer, Rollout> ahead) {
    try (RolloutPipeline rollouts =
        pipeline(settings.maxStaleness(), first, settings.rounds(), ahead)) {
      for (int round = first; round <= settings.rounds(); round++) {
        try {
          runRound(round, rollouts);
        } catch (RuntimeException | Error e) {
          // The rounds already published keep their rows.
          try {
            announce(record(rollouts, true));
          } catch (RuntimeException | Error more) {
            e.addSuppressed(more);
          }
          throw e;
        }
      }
    }
  }

  /**
   * One round on its own, recorded; the policy replicas serve the updated weights when it returns.
   */
  public RoundMetrics runRound(int round) {
    try (RolloutPipeline rollouts = pipeline(0, round, round, Map.of())) {
      List<Recorded> recorded = runRound(round, rollouts);
      return recorded.get(recorded.size() - 1).metrics();
    }
  }

  private RolloutPipeline pipeline(
      int maxStaleness, int first, int last, Map<Integer, Rollout> ahead) {
    return new RolloutPipeline(
        source,
        maxStaleness,
        first,
        last,
        ahead,
        settings::evalDue,
        this::heldOut,
        learner::referenceLogprobs);
  }

  /**
   * The rollouts saved in the checkpoint of round {@code checkpointRound} for the rounds it had
   * sampled ahead (none with {@code loop.max_staleness} 0).
   *
   * @throws IllegalStateException if the checkpoint was written with another max_staleness
   */
  public static Map<Integer, Rollout> rolloutsAhead(
      Path checkpoint, int maxStaleness, TextCodec codec) {
    return RolloutsAhead.load(checkpoint, maxStaleness, codec);
  }

  /** A round's row waiting for its held-out evaluation, and the batch its samples record needs. */
  private record PendingRow(int round, RoundMetrics.Builder row, RewardBatch batch) {}

  /** A written row and the batch the listeners get with it. */
  private record Recorded(RoundMetrics metrics, RewardBatch batch) {}

  /** Runs one round; returns the rows it wrote (its own, or none yet, after any still pending). */
  private List<Recorded> runRound(int round, RolloutPipeline rollouts) {
    long roundStart = System.nanoTime();
    learner.reseed(settings.seed() * 1_000_033L + round);
    RolloutPipeline.Taken taken = rollouts.take(round);
    RolloutPipeline.Produced produced = taken.produced();
    Rollout rollout = withinStaleness(round, produced.rollout());
    RewardBatch batch = rollout.batch();
    long liveAtStart = publisher.liveVersion();

    // The sampler scored the reference ahead, unless the rollout came from a checkpoint or again.
    boolean scoredAhead = rollout == produced.rollout() && produced.reference() != null;
    long referenceStart = System.nanoTime();
    double[][] reference = scoredAhead ? produced.reference() : learner.referenceLogprobs(batch);
    double referenceSeconds =
        scoredAhead ? produced.referenceSeconds() : (System.nanoTime() - referenceStart) / 1e9;

    long learnStart = System.nanoTime();
    RoundUpdate update = learner.update(batch, reference);
    double learnSeconds = (System.nanoTime() - learnStart) / 1e9;
    requireFiniteWeights(round);

    double waitBeforePush = rollouts.awaitSampledBefore(round);
    // Offline there is no sampled version: the push goes one above the live one.
    Published published =
        publisher.publish(
            rollout.sampledVersion() == null ? liveAtStart : rollout.sampledVersion());
    rollouts.published(round);
    pending.add(
        new PendingRow(
            round,
            RoundRow.of(
                    round,
                    mode,
                    rollout,
                    update,
                    learnSeconds,
                    learner.optimizer().steps(),
                    published)
                .staleness(
                    rollout.sampledVersion() == null
                        ? null
                        : liveAtStart - rollout.sampledVersion())
                .learnerWaitSeconds(taken.learnerWaitSeconds() + waitBeforePush)
                .samplerWaitSeconds(produced.samplerWaitSeconds())
                .referenceSeconds(referenceSeconds)
                .roundSeconds((System.nanoTime() - roundStart) / 1e9),
            batch));
    boolean checkpointDue = round % settings.checkpointEvery() == 0 || round == settings.rounds();
    List<Recorded> recorded = record(rollouts, rollouts.maxStaleness() == 0 || checkpointDue);
    if (checkpointDue) {
      checkpoint(round, rollouts.sampledAhead(round));
    }
    announce(recorded);
    return recorded;
  }

  /**
   * Writes the pending rows in order, each once its held-out evaluation is in: waiting for it when
   * {@code wait}, else stopping at the first still being sampled.
   */
  private List<Recorded> record(RolloutPipeline rollouts, boolean wait) {
    List<Recorded> recorded = new ArrayList<>();
    while (!pending.isEmpty()) {
      PendingRow next = pending.peek();
      boolean evaluates = rollouts.evaluates(next.round());
      if (evaluates && !wait && !rollouts.heldOutDone(next.round())) {
        break;
      }
      if (evaluates) {
        RoundRow.evaluated(next.row(), rollouts.heldOut(next.round()));
      }
      pending.remove();
      RoundMetrics metrics = next.row().build();
      store.appendMetrics(metrics);
      store.appendSamples(SampleRecord.of(next.round(), next.batch()));
      recorded.add(new Recorded(metrics, next.batch()));
    }
    return recorded;
  }

  private void announce(List<Recorded> recorded) {
    for (Recorded r : recorded) {
      RoundMetrics m = r.metrics();
      LOG.info(
          "round {} v{} reward {} loss {} best {} -> {} worst {} -> {} kl {} pushed {} bytes",
          m.round(),
          m.liveVersion(),
          fmt(m.meanReward()),
          fmt(m.loss()),
          fmt(m.bestLogpBefore()),
          fmt(m.bestLogpAfter()),
          fmt(m.worstLogpBefore()),
          fmt(m.worstLogpAfter()),
          fmt(m.kl()),
          m.pushBytes());
      listeners.forEach(l -> l.roundCompleted(m, r.batch()));
    }
  }

  /**
   * The rollout itself, unless it was sampled from a version more than {@code max_staleness} behind
   * the live one (a replica that fell behind): then the round is sampled again, now.
   */
  private Rollout withinStaleness(int round, Rollout rollout) {
    Long sampled = rollout.sampledVersion();
    long live = publisher.liveVersion();
    if (sampled == null || sampled >= live - settings.maxStaleness()) {
      return rollout;
    }
    LOG.warn(
        "round {} was sampled from version {}, more than loop.max_staleness {} behind live"
            + " version {}: sampling it again",
        round,
        sampled,
        settings.maxStaleness(),
        live);
    return source.next(round);
  }

  /**
   * Fresh samples of the weights just published on the held-out prompts (run by the sampler
   * thread): their mean reward, and the one KL the run reports, KL(π_θ‖π_ref) of those weights
   * estimated on the samples ({@link Learner#kl}, which reads only the frozen reference). Both
   * modes measure it the same way, so online and offline KLs compare; it is NaN when sampling is
   * not plain π_θ sampling, where the mean log-ratio of the samples is not a KL estimate.
   */
  private RolloutPipeline.HeldOut heldOut() {
    long start = System.nanoTime();
    RewardBatch samples = evaluator.evaluate(settings.evalCount());
    double kl = evaluator.samplesPolicyAsIs() ? learner.kl(samples) : Double.NaN;
    return new RolloutPipeline.HeldOut(samples, kl, (System.nanoTime() - start) / 1e9);
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

  private void checkpoint(int round, Map<Integer, Rollout> ahead) {
    Path dir = store.checkpointDir(round);
    PolicyWeights.save(policy, dir);
    RolloutsAhead.save(dir, settings.maxStaleness(), ahead);
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

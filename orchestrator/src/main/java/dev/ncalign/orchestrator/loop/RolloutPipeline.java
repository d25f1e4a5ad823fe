package dev.ncalign.orchestrator.loop;

import dev.ncalign.orchestrator.source.BatchSource;
import dev.ncalign.orchestrator.source.Rollout;
import dev.ncalign.orchestrator.train.RewardBatch;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;
import java.util.function.IntPredicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rounds' rollouts, produced on a thread of their own so that sampling and scoring overlap the
 * learner's work, with bounded staleness N = {@code loop.max_staleness}.
 *
 * <p>Round r samples the weights published after round {@code q(r) = max(0, r − 1 − N)}. The
 * sampler starts round r as soon as round q(r) is published, and the learner publishes round p only
 * once every round that samples the version p replaces (all r ≤ p + N) has its rollout. So each
 * round samples exactly one version, fixed by N and r and never by timing: same seed, same run, for
 * every N. With N = 0 this is the synchronous loop (round r samples round r − 1's weights).
 *
 * <p>The same thread samples the held-out evaluations: the one of round p right after round p is
 * published, before anything sampled from p, and round p + 1 is not published before it is done.
 * With N ≥ 1 it then overlaps the learner's next round instead of delaying it.
 */
final class RolloutPipeline implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RolloutPipeline.class);
  private static final long CLOSE_WAIT_MILLIS = 10_000;

  /**
   * A rollout, its responses' reference log-probs (null when not scored here) with the seconds that
   * scoring took, and the seconds the sampler waited for its version to go live.
   */
  record Produced(
      Rollout rollout, double[][] reference, double referenceSeconds, double samplerWaitSeconds) {}

  /** What the learner got for a round and how long it waited for it. */
  record Taken(Produced produced, double learnerWaitSeconds) {
    Rollout rollout() {
      return produced.rollout();
    }
  }

  /**
   * Held-out samples of a round's published weights, their KL estimate, and the seconds sampling,
   * scoring and estimating took.
   */
  record HeldOut(RewardBatch samples, double kl, double seconds) {}

  private final BatchSource source;
  private final int maxStaleness;
  private final int lastRound;
  private final Map<Integer, CompletableFuture<Produced>> produced = new ConcurrentHashMap<>();
  private final Map<Integer, CompletableFuture<HeldOut>> heldOut = new ConcurrentHashMap<>();
  private final Supplier<HeldOut> heldOutSampler;
  private final Function<RewardBatch, double[][]> reference;
  private final Thread sampler;
  private final Object publishedLock = new Object();
  private int publishedRound;
  private boolean closed;

  /** Without held-out evaluations. */
  RolloutPipeline(
      BatchSource source,
      int maxStaleness,
      int firstRound,
      int lastRound,
      Map<Integer, Rollout> pending) {
    this(
        source,
        maxStaleness,
        firstRound,
        lastRound,
        pending,
        round -> false,
        () -> null,
        b -> null);
  }

  /**
   * Starts sampling round {@code firstRound} onwards; {@code pending} holds the rollouts a resumed
   * run's checkpoint carried (rounds {@code firstRound ..} sampled ahead before it was written).
   * After each round {@code evalDue} accepts is published, {@code heldOutSampler} samples it. Each
   * rollout sampled here also gets its {@code reference} log-probs, scored on this thread.
   */
  RolloutPipeline(
      BatchSource source,
      int maxStaleness,
      int firstRound,
      int lastRound,
      Map<Integer, Rollout> pending,
      IntPredicate evalDue,
      Supplier<HeldOut> heldOutSampler,
      Function<RewardBatch, double[][]> reference) {
    this.source = source;
    this.heldOutSampler = heldOutSampler;
    this.reference = reference;
    this.maxStaleness = maxStaleness;
    this.lastRound = lastRound;
    this.publishedRound = firstRound - 1;
    int next = firstRound;
    while (pending.containsKey(next)) {
      produced.put(
          next, CompletableFuture.completedFuture(new Produced(pending.get(next), null, 0, 0)));
      next++;
    }
    if (next != firstRound + pending.size()) {
      throw new IllegalArgumentException(
          "pending rollouts must be rounds " + firstRound + ".., got " + pending.keySet());
    }
    for (int r = next; r <= lastRound; r++) {
      produced.put(r, new CompletableFuture<>());
    }
    for (int r = firstRound; r <= lastRound; r++) {
      if (evalDue.test(r)) {
        heldOut.put(r, new CompletableFuture<>());
      }
    }
    int start = next;
    sampler = new Thread(() -> sample(start), "rollouts");
    sampler.setDaemon(true);
    sampler.start();
  }

  /** The round whose published weights round {@code round} samples (0: the starting weights). */
  static int sampledAfter(int round, int maxStaleness) {
    return Math.max(0, round - 1 - maxStaleness);
  }

  /**
   * Goes through the published rounds p in order: once p is live, its held-out evaluation when due,
   * then every round that samples p's weights.
   */
  private void sample(int start) {
    int round = start;
    int lastEval = heldOut.keySet().stream().mapToInt(Integer::intValue).max().orElse(0);
    int lastVersion = Math.max(sampledAfter(lastRound, maxStaleness), lastEval);
    for (int p = sampledAfter(start, maxStaleness); p <= lastVersion; p++) {
      long waitStart = System.nanoTime();
      if (!awaitPublished(p)) {
        return;
      }
      double waited = (System.nanoTime() - waitStart) / 1e9;
      CompletableFuture<HeldOut> evaluation = heldOut.get(p);
      if (evaluation != null && !complete(evaluation, heldOutSampler)) {
        return;
      }
      for (; round <= lastRound && sampledAfter(round, maxStaleness) <= p; round++) {
        int r = round;
        double roundWaited = waited;
        waited = 0;
        if (!complete(produced.get(r), () -> produce(r, roundWaited))) {
          return;
        }
      }
    }
  }

  private Produced produce(int round, double waited) {
    Rollout rollout = source.next(round);
    long start = System.nanoTime();
    double[][] ref = reference.apply(rollout.batch());
    return new Produced(rollout, ref, (System.nanoTime() - start) / 1e9, waited);
  }

  /**
   * Fills {@code slot}; on a failure the learner sees it when it needs that slot, and every slot
   * still open is cancelled: nothing later is sampled.
   */
  private <T> boolean complete(CompletableFuture<T> slot, Supplier<T> work) {
    try {
      slot.complete(work.get());
      return true;
    } catch (RuntimeException | Error e) {
      slot.completeExceptionally(e);
      produced.values().forEach(f -> f.cancel(false));
      heldOut.values().forEach(f -> f.cancel(false));
      return false;
    }
  }

  /** Blocks until round {@code round} is published; false once the pipeline is closed. */
  private boolean awaitPublished(int round) {
    synchronized (publishedLock) {
      while (publishedRound < round && !closed) {
        try {
          publishedLock.wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
      return !closed;
    }
  }

  /** Round {@code round}'s rollout, waiting for the sampler if it is behind. */
  Taken take(int round) {
    long start = System.nanoTime();
    Produced p = await(produced, round, "rollout");
    return new Taken(p, (System.nanoTime() - start) / 1e9);
  }

  /**
   * Waits, before round {@code round}'s weights are published, until every round that samples the
   * version they replace has its rollout, and the previous round its held-out evaluation.
   *
   * @return seconds waited
   */
  double awaitSampledBefore(int round) {
    long start = System.nanoTime();
    for (int r = round + 1; r <= Math.min(lastRound, round + maxStaleness); r++) {
      await(produced, r, "rollout");
    }
    if (heldOut.containsKey(round - 1)) {
      await(heldOut, round - 1, "held-out evaluation");
    }
    return (System.nanoTime() - start) / 1e9;
  }

  /** N: how many rounds sampling may run ahead of the learner. */
  int maxStaleness() {
    return maxStaleness;
  }

  /** Whether round {@code round} is evaluated on held-out prompts. */
  boolean evaluates(int round) {
    return heldOut.containsKey(round);
  }

  /** Whether round {@code round}'s held-out evaluation is done (or failed). */
  boolean heldOutDone(int round) {
    return heldOut.get(round).isDone();
  }

  /** Round {@code round}'s held-out evaluation, waiting for the sampler if it is still on it. */
  HeldOut heldOut(int round) {
    return await(heldOut, round, "held-out evaluation");
  }

  /** Round {@code round}'s weights are live: the rounds that sample them may start. */
  void published(int round) {
    synchronized (publishedLock) {
      publishedRound = round;
      publishedLock.notifyAll();
    }
  }

  /**
   * The rollouts sampled ahead of round {@code round} (rounds {@code round + 1 .. round + N}), all
   * complete once {@link #awaitSampledBefore} has returned: what a checkpoint after that round must
   * carry for a resumed run to train on exactly what this one will.
   */
  Map<Integer, Rollout> sampledAhead(int round) {
    Map<Integer, Rollout> ahead = new TreeMap<>();
    for (int r = round + 1; r <= Math.min(lastRound, round + maxStaleness); r++) {
      ahead.put(r, await(produced, r, "rollout").rollout());
    }
    return ahead;
  }

  private static <T> T await(Map<Integer, CompletableFuture<T>> slots, int round, String what) {
    CompletableFuture<T> slot = slots.get(round);
    if (slot == null) {
      throw new IllegalArgumentException(
          "round " + round + " has no " + what + " in this pipeline");
    }
    try {
      return slot.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted waiting for round " + round + "'s " + what, e);
    } catch (CancellationException e) {
      throw new IllegalStateException(
          "round " + round + "'s " + what + " was not sampled: an earlier sampling failed", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      }
      if (e.getCause() instanceof Error error) {
        throw error;
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  /**
   * Stops the sampler. After the last round it has already ended; when the run stops early, a round
   * it is still sampling is interrupted (which cancels its gRPC calls).
   */
  @Override
  public void close() {
    synchronized (publishedLock) {
      closed = true;
      publishedLock.notifyAll();
    }
    sampler.interrupt();
    try {
      sampler.join(CLOSE_WAIT_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (sampler.isAlive()) {
      LOG.warn("the rollout sampler did not stop within {} ms", CLOSE_WAIT_MILLIS);
    }
  }
}

package dev.ncalign.orchestrator.loop;

import dev.ncalign.orchestrator.source.BatchSource;
import dev.ncalign.orchestrator.source.Rollout;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
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
 * every N. With N = 0 this is the synchronous loop (round r samples round r − 1's weights); only
 * the next round's sampling overlaps the previous round's evaluation and bookkeeping.
 */
final class RolloutPipeline implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RolloutPipeline.class);
  private static final long CLOSE_WAIT_MILLIS = 10_000;

  /** A rollout and the seconds the sampler waited for its version to go live. */
  record Produced(Rollout rollout, double samplerWaitSeconds) {}

  /** What the learner got for a round and how long it waited for it. */
  record Taken(Rollout rollout, double samplerWaitSeconds, double learnerWaitSeconds) {}

  private final BatchSource source;
  private final int maxStaleness;
  private final int lastRound;
  private final Map<Integer, CompletableFuture<Produced>> produced = new ConcurrentHashMap<>();
  private final Thread sampler;
  private final Object publishedLock = new Object();
  private int publishedRound;
  private boolean closed;

  /**
   * Starts sampling round {@code firstRound} onwards; {@code pending} holds the rollouts a resumed
   * run's checkpoint carried (rounds {@code firstRound ..} sampled ahead before it was written).
   */
  RolloutPipeline(
      BatchSource source,
      int maxStaleness,
      int firstRound,
      int lastRound,
      Map<Integer, Rollout> pending) {
    this.source = source;
    this.maxStaleness = maxStaleness;
    this.lastRound = lastRound;
    this.publishedRound = firstRound - 1;
    int next = firstRound;
    while (pending.containsKey(next)) {
      produced.put(next, CompletableFuture.completedFuture(new Produced(pending.get(next), 0)));
      next++;
    }
    if (next != firstRound + pending.size()) {
      throw new IllegalArgumentException(
          "pending rollouts must be rounds " + firstRound + ".., got " + pending.keySet());
    }
    for (int r = next; r <= lastRound; r++) {
      produced.put(r, new CompletableFuture<>());
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

  private void sample(int start) {
    for (int round = start; round <= lastRound; round++) {
      CompletableFuture<Produced> slot = produced.get(round);
      try {
        long waitStart = System.nanoTime();
        if (!awaitPublished(sampledAfter(round, maxStaleness))) {
          return;
        }
        double waited = (System.nanoTime() - waitStart) / 1e9;
        slot.complete(new Produced(source.next(round), waited));
      } catch (RuntimeException | Error e) {
        // The learner sees it when it needs this round; later rounds never start.
        slot.completeExceptionally(e);
        produced.values().forEach(f -> f.cancel(false));
        return;
      }
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
    Produced p = await(round);
    return new Taken(p.rollout(), p.samplerWaitSeconds(), (System.nanoTime() - start) / 1e9);
  }

  /**
   * Waits, before round {@code round}'s weights are published, until every round that samples the
   * version they replace has its rollout.
   *
   * @return seconds waited
   */
  double awaitSampledBefore(int round) {
    long start = System.nanoTime();
    for (int r = round + 1; r <= Math.min(lastRound, round + maxStaleness); r++) {
      await(r);
    }
    return (System.nanoTime() - start) / 1e9;
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
      ahead.put(r, await(r).rollout());
    }
    return ahead;
  }

  private Produced await(int round) {
    CompletableFuture<Produced> slot = produced.get(round);
    if (slot == null) {
      throw new IllegalArgumentException("round " + round + " is not in this pipeline");
    }
    try {
      return slot.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted waiting for round " + round + "'s rollout", e);
    } catch (CancellationException e) {
      throw new IllegalStateException(
          "round " + round + " was not sampled: an earlier round's sampling failed", e);
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

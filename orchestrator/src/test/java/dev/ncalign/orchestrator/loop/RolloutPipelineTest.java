package dev.ncalign.orchestrator.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ncalign.orchestrator.source.BatchSource;
import dev.ncalign.orchestrator.source.Rollout;
import dev.ncalign.orchestrator.train.RewardBatch;
import dev.ncalign.orchestrator.train.ScoredPrompt;
import dev.ncalign.orchestrator.train.ScoredResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The pipeline's one promise: round r is sampled while exactly the weights of round max(0, r − 1 −
 * N) are published, whatever the timing, and with N ≥ 1 that happens while the learner still works
 * on earlier rounds.
 */
class RolloutPipelineTest {
  private static final int ROUNDS = 7;

  /** A source that records which round's weights were published while it sampled each round. */
  private static final class RecordingSource implements BatchSource {
    final AtomicInteger published = new AtomicInteger();
    final Map<Integer, Integer> sampledAfter = new ConcurrentHashMap<>();
    final Map<Integer, Boolean> steady = new ConcurrentHashMap<>();

    @Override
    public Rollout next(int round) {
      int before = published.get();
      sampledAfter.put(round, before);
      sleep(3);
      steady.put(round, published.get() == before);
      return rollout(before + 1);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2})
  void eachRoundSamplesTheVersionItsStalenessFixes(int maxStaleness) {
    RecordingSource source = new RecordingSource();
    try (RolloutPipeline pipeline =
        new RolloutPipeline(source, maxStaleness, 1, ROUNDS, Map.of())) {
      for (int round = 1; round <= ROUNDS; round++) {
        Rollout rollout = pipeline.take(round).rollout();
        assertEquals(
            1 + RolloutPipeline.sampledAfter(round, maxStaleness),
            rollout.sampledVersion(),
            "round " + round);
        sleep(2); // the learner's work, while the sampler may run ahead
        pipeline.awaitSampledBefore(round);
        source.published.set(round);
        pipeline.published(round);
      }
    }
    for (int round = 1; round <= ROUNDS; round++) {
      assertEquals(
          Math.max(0, round - 1 - maxStaleness),
          source.sampledAfter.get(round),
          "round " + round + " sampled after round");
      assertTrue(source.steady.get(round), "no push while round " + round + " was sampled");
    }
  }

  @Test
  void withStalenessOneTheNextRoundIsSampledWhileTheLearnerWorks() throws Exception {
    RecordingSource source = new RecordingSource();
    try (RolloutPipeline pipeline = new RolloutPipeline(source, 1, 1, 3, Map.of())) {
      pipeline.take(1);
      // Round 1 is "training" and nothing is published yet, but round 2 needs only version 0.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!source.sampledAfter.containsKey(2) && System.nanoTime() < deadline) {
        sleep(1);
      }
      assertEquals(0, source.sampledAfter.get(2), "round 2 sampled before round 1 published");
      assertFalse(source.sampledAfter.containsKey(3), "round 3 needs round 1's weights");
      pipeline.awaitSampledBefore(1);
      assertEquals(Map.of(2, 1L), versions(pipeline.sampledAhead(1)));
    }
  }

  @Test
  void aResumedPipelineTrainsOnTheRolloutsItWasGiven() {
    RecordingSource source = new RecordingSource();
    source.published.set(3);
    Rollout saved = rollout(3);
    try (RolloutPipeline pipeline = new RolloutPipeline(source, 1, 4, 5, Map.of(4, saved))) {
      assertSame(saved, pipeline.take(4).rollout());
      pipeline.awaitSampledBefore(4);
      assertEquals(3, source.sampledAfter.get(5), "round 5 samples the checkpoint's weights");
      assertFalse(source.sampledAfter.containsKey(4), "round 4 is not sampled again");
    }
  }

  @Test
  void aFailedSampleSurfacesWhereTheLearnerNeedsIt() {
    BatchSource failing =
        round -> {
          if (round == 2) {
            throw new IllegalArgumentException("reward server down");
          }
          return rollout(1);
        };
    try (RolloutPipeline pipeline = new RolloutPipeline(failing, 1, 1, 4, Map.of())) {
      pipeline.take(1);
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> pipeline.awaitSampledBefore(1));
      assertEquals("reward server down", e.getMessage());
      assertThrows(IllegalStateException.class, () -> pipeline.take(3));
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2})
  void eachHeldOutEvaluationSamplesItsOwnRoundsWeightsBeforeTheNextPush(int maxStaleness) {
    RecordingSource source = new RecordingSource();
    Map<Integer, Integer> evaluatedAfter = new ConcurrentHashMap<>();
    AtomicInteger evaluations = new AtomicInteger();
    try (RolloutPipeline pipeline =
        new RolloutPipeline(
            source,
            maxStaleness,
            1,
            ROUNDS,
            Map.of(),
            round -> round % 2 == 0 || round == ROUNDS,
            () -> {
              evaluatedAfter.put(evaluations.incrementAndGet(), source.published.get());
              sleep(3);
              return new RolloutPipeline.HeldOut(rollout(0).batch(), 0, 0);
            },
            batch -> null)) {
      for (int round = 1; round <= ROUNDS; round++) {
        pipeline.take(round);
        pipeline.awaitSampledBefore(round);
        source.published.set(round);
        pipeline.published(round);
      }
      for (int round = 1; round <= ROUNDS; round++) {
        assertEquals(
            round % 2 == 0 || round == ROUNDS, pipeline.evaluates(round), "round " + round);
      }
      assertEquals(1, pipeline.heldOut(ROUNDS).samples().prompts().size());
    }
    assertEquals(
        Map.of(1, 2, 2, 4, 3, 6, 4, 7), evaluatedAfter, "evaluation n sampled after round");
  }

  @Test
  void withStalenessOneTheLearnerTrainsOnWhileTheSamplerEvaluates() throws Exception {
    CountDownLatch evaluating = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    try (RolloutPipeline pipeline =
        evaluatingRoundOne(
            1,
            () -> {
              evaluating.countDown();
              await(release);
              return new RolloutPipeline.HeldOut(rollout(0).batch(), 0, 0);
            })) {
      publishRoundOne(pipeline);
      assertTrue(evaluating.await(10, TimeUnit.SECONDS), "round 1's evaluation started");
      pipeline.take(2); // sampled from round 0's weights, before the evaluation
      assertFalse(pipeline.heldOutDone(1), "the learner trains round 2 during the evaluation");
      release.countDown();
      pipeline.awaitSampledBefore(2);
      assertTrue(pipeline.heldOutDone(1), "round 2 is not pushed before round 1 is evaluated");
    }
  }

  @Test
  void aFailedEvaluationSurfacesWhereTheLearnerNeedsItAndStopsSampling() {
    try (RolloutPipeline pipeline =
        evaluatingRoundOne(
            0,
            () -> {
              throw new IllegalStateException("reward server down");
            })) {
      publishRoundOne(pipeline);
      IllegalStateException e =
          assertThrows(IllegalStateException.class, () -> pipeline.heldOut(1));
      assertEquals("reward server down", e.getMessage());
      assertThrows(IllegalStateException.class, () -> pipeline.take(2));
    }
  }

  @Test
  void theSamplerScoresEachSampledRoundUnderTheReferenceButNotTheResumedOnes() {
    Map<String, String> scoredBy = new ConcurrentHashMap<>();
    BatchSource source = round -> rollout(round);
    Rollout saved = rollout(3);
    try (RolloutPipeline pipeline =
        new RolloutPipeline(
            source,
            1,
            4,
            6,
            Map.of(4, saved),
            round -> false,
            () -> null,
            batch -> {
              scoredBy.merge(Thread.currentThread().getName(), "x", String::concat);
              return new double[][] {{-1.5}};
            })) {
      RolloutPipeline.Taken resumed = pipeline.take(4);
      assertSame(saved, resumed.rollout());
      assertEquals(
          null, resumed.produced().reference(), "the checkpoint's rollout: learner scores");
      pipeline.awaitSampledBefore(4);
      pipeline.published(4);
      RolloutPipeline.Taken sampled = pipeline.take(5);
      assertEquals(-1.5, sampled.produced().reference()[0][0]);
      pipeline.awaitSampledBefore(5);
      pipeline.published(5);
      pipeline.take(6);
    }
    assertEquals(Map.of("rollouts", "xx"), scoredBy, "rounds 5 and 6, on the sampler's thread");
  }

  /** Three rounds sampled by version alone, round 1 evaluated by {@code heldOut}. */
  private static RolloutPipeline evaluatingRoundOne(
      int maxStaleness, Supplier<RolloutPipeline.HeldOut> heldOut) {
    return new RolloutPipeline(
        round -> rollout(round),
        maxStaleness,
        1,
        3,
        Map.of(),
        round -> round == 1,
        heldOut,
        b -> null);
  }

  /** The learner's side of round 1, without the learning. */
  private static void publishRoundOne(RolloutPipeline pipeline) {
    pipeline.take(1);
    pipeline.awaitSampledBefore(1);
    pipeline.published(1);
  }

  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(10, TimeUnit.SECONDS)) {
        throw new IllegalStateException("not released");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static Map<Integer, Long> versions(Map<Integer, Rollout> rollouts) {
    Map<Integer, Long> versions = new ConcurrentHashMap<>();
    rollouts.forEach((round, r) -> versions.put(round, r.sampledVersion()));
    return versions;
  }

  private static Rollout rollout(long version) {
    ScoredPrompt prompt =
        new ScoredPrompt("p", new int[] {1}, List.of(new ScoredResponse("r", new int[] {2}, 1f)));
    return new Rollout(new RewardBatch(List.of(prompt)), version, 0, 0, 0);
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}

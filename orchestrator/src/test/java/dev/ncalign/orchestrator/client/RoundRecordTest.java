package dev.ncalign.orchestrator.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.lm.model.TestModels;
import dev.ncalign.orchestrator.config.Mode;
import dev.ncalign.orchestrator.config.RunConfig;
import dev.ncalign.orchestrator.loop.AlignmentLoop;
import dev.ncalign.orchestrator.loop.LoopSettings;
import dev.ncalign.orchestrator.loss.LossType;
import dev.ncalign.orchestrator.source.BatchSource;
import dev.ncalign.orchestrator.source.HeldOutEvaluator;
import dev.ncalign.orchestrator.source.OnlineSampler;
import dev.ncalign.orchestrator.source.Prompt;
import dev.ncalign.orchestrator.source.PromptSet;
import dev.ncalign.orchestrator.source.Rollout;
import dev.ncalign.orchestrator.store.RoundMetrics;
import dev.ncalign.orchestrator.store.RunStore;
import dev.ncalign.orchestrator.store.SampleRecord;
import dev.ncalign.orchestrator.train.Learner;
import dev.ncalign.orchestrator.train.LearnerSettings;
import dev.ncalign.orchestrator.train.LearningRateSchedule;
import dev.ncalign.orchestrator.train.ScoredPrompt;
import dev.ncalign.orchestrator.train.ScoredResponse;
import dev.ncalign.proto.v1.FinishReason;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One online round end to end against fake replicas, with a real tiny policy and learner: the
 * round's record carries the server's ids, log-probs, finish reasons and version unchanged, and the
 * learner trains on exactly those ids.
 */
class RoundRecordTest {
  private final LoopbackServers servers = new LoopbackServers();
  @TempDir Path dir;

  @AfterEach
  void stop() {
    servers.close();
  }

  @Test
  void theLearnerTrainsOnExactlyTheServersTokenIds() throws Exception {
    try (OneRound one = new OneRound()) {
      Rollout rollout = one.sampler.sample(one.texts, 5);

      assertEquals(1L, rollout.sampledVersion());
      for (int p = 0; p < one.texts.size(); p++) {
        List<ScoredResponse> responses = rollout.batch().prompts().get(p).responses();
        for (int s = 0; s < 3; s++) {
          ScoredResponse r = responses.get(s);
          assertArrayEquals(FakePolicy.sampledIds(p, s), r.tokenIds(), "ids as the server sent");
          assertEquals(1L, r.sampledVersion());
          assertEquals(
              s % 2 == 1 ? FinishReason.LENGTH : FinishReason.STOP, r.sample().finishReason());
          assertEquals(
              -0.5 * r.tokenIds().length - r.tokenIds().length * (r.tokenIds().length - 1) / 2.0,
              r.sample().sumLogprob(),
              1e-6);
        }
      }
      double expectedBest = bestLogp(one.policy, rollout);

      RoundMetrics row = one.loop(round -> rollout).runRound(1);

      // The learner's "best before" is the policy's log-prob of the server's ids, nothing else.
      assertEquals(expectedBest, row.bestLogpBefore(), 1e-4);
      assertEquals(1L, row.sampledVersion());
      assertEquals(2, row.liveVersion());
      assertEquals(2, one.fake.version);
      assertEquals(one.fake.weights.length, row.pushBytes());
      assertEquals(1, row.optimizerSteps());
      assertEquals(Double.NaN, row.kl(), "no evaluation this round: no KL");
      List<SampleRecord> samples = RunStore.open(dir).samples();
      assertEquals(6, samples.size());
      assertEquals(1L, samples.get(0).sampledVersion());
    }
  }

  @Test
  void anUpdateThatLeavesNonFiniteWeightsStopsTheRunBeforeAnyPushOrCheckpoint() throws Exception {
    try (OneRound one = new OneRound()) {
      Rollout rollout = one.sampler.sample(one.texts, 5);
      AlignmentLoop loop = one.loop(round -> rollout);
      // A weight gone bad, as a diverging update would leave it (the update cannot repair it).
      one.policy.parameters().get("model.norm.weight").getArray().set(new NDIndex("0"), Float.NaN);

      IllegalStateException stopped =
          assertThrows(IllegalStateException.class, () -> loop.runRound(1));
      assertTrue(stopped.getMessage().contains("model.norm.weight"), stopped.getMessage());
      assertEquals(1, one.fake.version, "nothing pushed: the replica still serves v1");
      assertTrue(RunStore.open(dir).metrics().isEmpty(), "no row recorded");
      assertTrue(RunStore.open(dir).resume().isEmpty(), "no checkpoint to resume from");
    }
  }

  @Test
  void aBatchFromAVersionOlderThanTheStalenessAllowsIsSampledAgain() throws Exception {
    try (OneRound one = new OneRound()) {
      Rollout rollout = one.sampler.sample(one.texts, 5);
      AtomicInteger calls = new AtomicInteger();
      // The replica answers from version 1 while the learner believes version 3 is live.
      AlignmentLoop loop =
          one.loop(
              round -> {
                calls.incrementAndGet();
                return rollout;
              },
              3);

      RoundMetrics row = loop.runRound(1);

      assertEquals(2, calls.get(), "the stale batch was sampled again");
      assertEquals(2L, row.staleness(), "the second batch is what it is: trained on, and reported");
    }
  }

  /** A fake policy and reward replica, a real tiny policy and its NCA learner, for one round. */
  private final class OneRound implements AutoCloseable {
    final FakePolicy fake = new FakePolicy("a", 0);
    final List<Prompt> texts = List.of(Prompt.plain("the cat sat"), Prompt.plain("a dog ran"));
    final PolicyClient policyClient;
    final RewardClient rewardClient;
    final CausalLm policy = TestModels.loadTiny();
    final CausalLm reference = TestModels.loadTiny();
    final Learner learner = ncaLearner(policy, reference);
    final OnlineSampler sampler;

    OneRound() throws Exception {
      fake.sampleTokens = true;
      policyClient = new PolicyClient(List.of(servers.start(fake)), PolicyClientTest.FAST);
      rewardClient =
          new RewardClient(List.of(servers.start(new FakeReward(0))), PolicyClientTest.FAST);
      sampler =
          new OnlineSampler(
              policyClient,
              rewardClient,
              policy.codec(),
              new RunConfig.Sampling(2, 3, 8, 1.0, 1.0, 0));
    }

    AlignmentLoop loop(BatchSource source) {
      return loop(source, 1);
    }

    AlignmentLoop loop(BatchSource source, long liveVersion) {
      return new AlignmentLoop(
          Mode.ONLINE,
          source,
          learner,
          policy,
          WeightPublisher.at(policyClient, policy::writeSafetensors, liveVersion),
          new HeldOutEvaluator(sampler, PromptSet.split(texts), 1),
          RunStore.open(dir),
          new LoopSettings(1, 1, 0, 0, 1, 0),
          List.of());
    }

    @Override
    public void close() {
      learner.close();
      reference.close();
      policy.close();
      rewardClient.close();
      policyClient.close();
    }
  }

  /** An NCA learner with one optimizer step per round (a 4096-token minibatch, lr 1e-3). */
  static Learner ncaLearner(CausalLm policy, CausalLm reference) {
    return new Learner(
        policy,
        reference,
        new LearnerSettings(
            LossType.NCA, 1f, 1f, 1, 4096, 1, LearningRateSchedule.constant(1e-3f), 0f, 1f),
        1);
  }

  /** Mean over prompts of log π(best response | prompt), scored here from the rollout's ids. */
  private static double bestLogp(CausalLm policy, Rollout rollout) {
    double sum = 0;
    for (ScoredPrompt p : rollout.batch().prompts()) {
      int[] ids = p.responses().get(p.best()).tokenIds();
      try (NDManager scope = policy.manager().newSubManager()) {
        sum +=
            policy
                .logprobs(scope, List.of(p.promptIds()), List.of(ids), false)
                .sums()
                .toFloatArray()[0];
      }
    }
    return sum / rollout.batch().prompts().size();
  }
}

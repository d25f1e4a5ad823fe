package dev.ncalign.orchestrator.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import dev.ncalign.lm.lora.LoraAdapter;
import dev.ncalign.lm.lora.LoraConfig;
import dev.ncalign.lm.lora.PeftAdapterDirectory;
import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.lm.model.TextCodec;
import dev.ncalign.lm.model.TinyModelFactory;
import dev.ncalign.lm.model.TinyModelSpec;
import dev.ncalign.orchestrator.loss.LossType;
import dev.ncalign.proto.v1.FinishReason;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LearnerTest {
  private static final List<String> WORDS =
      List.of(
          "good", "bad", "fine", "great", "awful", "it", "is", "the", "product", "review", ":",
          ".");

  @TempDir static Path tmp;
  static Path modelDir;

  @BeforeAll
  static void writeModel() {
    modelDir = TinyModelFactory.write(tmp.resolve("base"), WORDS, TinyModelSpec.tiny(), 11);
  }

  private static CausalLm load() {
    return CausalLm.load(modelDir, Device.cpu());
  }

  /** Two prompts, three responses each, best first. */
  private static RewardBatch batch(TextCodec codec, float[][] rewards) {
    return new RewardBatch(
        scored(
            codec,
            new String[] {"review the product :", "the product review :"},
            new String[] {"it is great .", "it is fine .", "it is awful ."},
            rewards));
  }

  /** Every prompt with every response, rewards[prompt][response]. */
  private static List<ScoredPrompt> scored(
      TextCodec codec, String[] prompts, String[] responses, float[][] rewards) {
    List<ScoredPrompt> out = new ArrayList<>();
    for (int p = 0; p < prompts.length; p++) {
      List<ScoredResponse> scored = new ArrayList<>();
      for (int k = 0; k < responses.length; k++) {
        scored.add(
            new ScoredResponse(responses[k], codec.encodeResponse(responses[k]), rewards[p][k]));
      }
      out.add(new ScoredPrompt(prompts[p], codec.encodePrompt(prompts[p]), scored));
    }
    return out;
  }

  /**
   * {@code batch} as if {@code sampler} had sampled it: each response's sample carries the
   * sampler's sequence log-prob (all on its first token), which is what {@link Learner#kl} reads.
   */
  private static RewardBatch sampledBy(CausalLm sampler, RewardBatch batch) {
    double[][] logp = SequenceScorer.score(sampler, batch.prompts(), 4096);
    List<ScoredPrompt> prompts = new ArrayList<>();
    for (int p = 0; p < batch.prompts().size(); p++) {
      ScoredPrompt prompt = batch.prompts().get(p);
      List<ScoredResponse> responses = new ArrayList<>();
      for (int k = 0; k < prompt.responses().size(); k++) {
        ScoredResponse r = prompt.responses().get(k);
        float[] tokenLogprobs = new float[r.tokenIds().length];
        tokenLogprobs[0] = (float) logp[p][k];
        responses.add(
            new ScoredResponse(
                r.text(),
                r.tokenIds(),
                r.reward(),
                new Sample(1, FinishReason.STOP, tokenLogprobs)));
      }
      prompts.add(new ScoredPrompt(prompt.prompt(), prompt.promptIds(), responses));
    }
    return new RewardBatch(prompts);
  }

  private static LearnerSettings settings(LossType loss, int epochs, int minibatchTokens) {
    return new LearnerSettings(
        loss, 1f, 1f, epochs, minibatchTokens, 1, LearningRateSchedule.constant(3e-3f), 0f, 1f);
  }

  /** Two rounds, the second's reference log-probs scored on another thread during the first. */
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void referenceLogprobsScoredOnAnotherThreadDuringAnUpdateGiveTheSameRounds(boolean lora)
      throws Exception {
    List<RoundUpdate> sequential = twoRounds(lora, false);
    assertEquals(sequential, twoRounds(lora, true), "bit for bit");
  }

  private static List<RoundUpdate> twoRounds(boolean lora, boolean scoreAhead) throws Exception {
    try (CausalLm base = load();
        CausalLm policy = lora ? base.withAdapter(LoraAdapter.initialize(base, LORA, 3)) : load();
        Learner learner = new Learner(policy, base, settings(LossType.NCA, 4, 64), 1)) {
      RewardBatch first = batch(base.codec(), new float[][] {{3f, 0f, -3f}, {3f, 0f, -3f}});
      RewardBatch second = batch(base.codec(), new float[][] {{-1f, 2f, 0f}, {0f, 1f, 2f}});
      if (!scoreAhead) {
        return List.of(learner.update(first), learner.update(second));
      }
      ExecutorService sampler = Executors.newSingleThreadExecutor();
      try {
        Future<double[][]> ahead = sampler.submit(() -> learner.referenceLogprobs(second));
        RoundUpdate one = learner.update(first);
        return List.of(one, learner.update(second, ahead.get()));
      } finally {
        sampler.shutdownNow();
      }
    }
  }

  @Test
  void ncaRaisesTheBestResponsesAbsoluteLikelihood() {
    try (CausalLm policy = load();
        CausalLm reference = load();
        Learner learner = new Learner(policy, reference, settings(LossType.NCA, 4, 4096), 1)) {
      RewardBatch batch = batch(policy.codec(), new float[][] {{3f, 0f, -3f}, {3f, 0f, -3f}});
      assertEquals(
          0.0,
          learner.kl(sampledBy(policy, batch)),
          1e-5,
          "policy = reference before the first update");
      RoundUpdate first = learner.update(batch);
      RoundUpdate second = learner.update(batch);
      assertTrue(
          first.bestLogpAfter() > first.bestLogpBefore(), "NCA raises the best response: " + first);
      assertTrue(
          first.worstLogpAfter() < first.worstLogpBefore(),
          "NCA lowers the worst response: " + first);
      assertTrue(
          second.loss() < first.loss(),
          "loss falls across rounds: " + first.loss() + " -> " + second.loss());
      assertEquals(first.bestLogpAfter(), second.bestLogpBefore(), 1e-4, "rounds chain");
      double kl = learner.kl(sampledBy(policy, batch));
      assertTrue(Math.abs(kl) > 1e-3, "the policy moved away from the reference: " + kl);
      assertEquals(
          8, learner.optimizer().steps(), "one step per minibatch, one minibatch per epoch");
    }
  }

  @Test
  void aStepWeighsEveryPromptEquallyHoweverItsMinibatchesWereCut() {
    try (CausalLm policy = load();
        CausalLm reference = load();
        Learner learner = new Learner(policy, reference, settings(LossType.NCA, 1, 4096), 1)) {
      TextCodec codec = policy.codec();
      String[] prompts = {"review the product :", "the product :", "review :", "it is :"};
      float[][] rewards = {{2f, 0f, -1f}, {0f, 1f, 3f}, {1f, Float.NaN, Float.NaN}, {-1f, 0f, 1f}};
      String[] responses = {"it is great .", "fine .", "the product is awful ."};
      List<ScoredPrompt> batch = scored(codec, prompts, responses, rewards);
      double[][] ref = SequenceScorer.score(reference, batch, 4096);
      // One piece: the mean over the step's prompts (prompt 2 has one present response: it
      // takes no part).
      Learner.StepLoss whole = learner.accumulate(batch, List.of(List.of(0, 1, 2, 3)), ref);
      Map<String, float[]> expected = gradients(policy);
      learner.optimizer().zeroGradients();
      assertEquals(3, whole.prompts());
      for (List<List<Integer>> cut :
          List.of(
              List.of(List.of(0, 1, 2), List.of(3)),
              List.of(List.of(3), List.of(1), List.of(0, 2)),
              List.of(List.of(2), List.of(0, 1, 3)))) {
        Learner.StepLoss loss = learner.accumulate(batch, cut, ref);
        assertEquals(whole.sum(), loss.sum(), 1e-5, "summed loss of cut " + cut);
        assertEquals(whole.prompts(), loss.prompts());
        Map<String, float[]> actual = gradients(policy);
        learner.optimizer().zeroGradients();
        for (Map.Entry<String, float[]> e : expected.entrySet()) {
          float[] want = e.getValue();
          float[] got = actual.get(e.getKey());
          for (int i = 0; i < want.length; i++) {
            assertEquals(
                want[i],
                got[i],
                1e-6 + 1e-4 * Math.abs(want[i]),
                e.getKey() + "[" + i + "] with cut " + cut);
          }
        }
      }
    }
  }

  @Test
  void stepsNeverSpanEpochsAndTheLastMayBeShort() {
    List<ScoredPrompt> prompts = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      prompts.add(
          new ScoredPrompt(
              "p",
              new int[] {1},
              List.of(
                  new ScoredResponse("a", new int[] {2}, 0f),
                  new ScoredResponse("b", new int[] {3}, 1f))));
    }
    int cost = prompts.get(0).tokenCost();
    // One prompt per minibatch, three minibatches per step: 5 prompts make steps of 3 and 2.
    assertEquals(
        List.of(List.of(List.of(4), List.of(3), List.of(2)), List.of(List.of(1), List.of(0))),
        OptimizerSteps.of(prompts, List.of(4, 3, 2, 1, 0), cost, 3));
  }

  private static Map<String, float[]> gradients(CausalLm model) {
    Map<String, float[]> out = new LinkedHashMap<>();
    for (Map.Entry<String, Parameter> e : model.parameters().entrySet()) {
      try (NDArray grad = e.getValue().getArray().getGradient()) {
        out.put(e.getKey(), grad.toFloatArray());
      }
    }
    return out;
  }

  /**
   * The race behind "same seed, different run": autograd kept tensors over Java buffers that the
   * garbage collector freed before the backward pass. A thread forcing collections made every
   * repetition's gradients differ (NaN, ∞ or 1e17 norms); now they must be bit-identical.
   */
  @Test
  void updatesAreBitIdenticalWhileTheGarbageCollectorRuns() throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    Thread collector =
        new Thread(
            () -> {
              while (!stop.get()) {
                System.gc();
                LockSupport.parkNanos(2_000_000);
              }
            },
            "gc-pressure");
    collector.setDaemon(true);
    collector.start();
    List<String> runs = new ArrayList<>();
    try {
      for (int repetition = 0; repetition < 5; repetition++) {
        try (CausalLm policy = load();
            CausalLm reference = load();
            Learner learner = new Learner(policy, reference, settings(LossType.NCA, 2, 40), 7)) {
          StringBuilder run = new StringBuilder();
          RewardBatch batch = batch(policy.codec(), new float[][] {{2f, 0f, -1f}, {0f, 1f, 3f}});
          for (int round = 0; round < 2; round++) {
            RoundUpdate update = learner.update(batch);
            run.append(update.loss()).append(' ').append(update.gradNorm()).append(' ');
            assertTrue(Double.isFinite(update.gradNorm()), "gradient norm " + update.gradNorm());
          }
          for (Parameter p : policy.parameters().values()) {
            run.append(Arrays.hashCode(p.getArray().toFloatArray())).append(' ');
          }
          runs.add(run.toString());
        }
      }
    } finally {
      stop.set(true);
      collector.join();
    }
    for (String run : runs) {
      assertEquals(runs.get(0), run, "every repetition of the same updates");
    }
  }

  @Test
  void nonFiniteRewardsNeverReachTheOptimizer() {
    try (CausalLm policy = load();
        CausalLm reference = load();
        Learner learner = new Learner(policy, reference, settings(LossType.INFONCA, 2, 4096), 1)) {
      RewardBatch batch =
          batch(
              policy.codec(),
              new float[][] {
                {Float.NaN, 1f, 0f}, {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 2f}
              });
      assertEquals(3, batch.dropped());
      RoundUpdate update = learner.update(batch);
      assertTrue(Double.isFinite(update.loss()), "loss " + update.loss());
      for (Parameter p : policy.parameters().values()) {
        for (float w : p.getArray().toFloatArray()) {
          assertTrue(Float.isFinite(w), p.getName());
        }
      }
    }
  }

  @Test
  void tokenBudgetChangesMemoryNotTheResult() {
    float[][] rewards = {{1f, 0.5f, -1f}, {0f, 2f, 1f}};
    double[] small;
    double[] large;
    try (CausalLm policy = load();
        CausalLm reference = load();
        Learner learner = new Learner(policy, reference, settings(LossType.NCA, 1, 1), 1)) {
      RewardBatch batch = batch(policy.codec(), rewards);
      assertEquals(2, RewardBatch.minibatches(batch.prompts(), List.of(0, 1), 1).size());
      RoundUpdate update = learner.update(batch);
      small = new double[] {update.bestLogpBefore(), update.worstLogpBefore()};
    }
    try (CausalLm policy = load();
        CausalLm reference = load();
        Learner learner = new Learner(policy, reference, settings(LossType.NCA, 1, 100_000), 1)) {
      RewardBatch batch = batch(policy.codec(), rewards);
      assertEquals(1, RewardBatch.minibatches(batch.prompts(), List.of(0, 1), 100_000).size());
      RoundUpdate update = learner.update(batch);
      large = new double[] {update.bestLogpBefore(), update.worstLogpBefore()};
    }
    assertArrayEquals(small, large, 1e-4, "scoring in one pass or many gives the same log-probs");
  }

  @Test
  void roundsLeaveNoArraysBehind() {
    try (CausalLm policy = load();
        CausalLm reference = load();
        Learner learner = new Learner(policy, reference, settings(LossType.NCA, 2, 16), 1)) {
      RewardBatch batch = batch(policy.codec(), new float[][] {{1f, 0f, -1f}, {2f, 1f, 0f}});
      RewardBatch sampled = sampledBy(policy, batch);
      learner.update(batch);
      learner.kl(sampled);
      int policyArrays = policy.manager().getManagedArrays().size();
      int referenceArrays = reference.manager().getManagedArrays().size();
      for (int round = 0; round < 3; round++) {
        learner.update(batch);
        learner.kl(sampled);
      }
      assertEquals(policyArrays, policy.manager().getManagedArrays().size(), "policy manager");
      assertEquals(
          referenceArrays, reference.manager().getManagedArrays().size(), "reference manager");
    }
  }

  @Test
  void optimizerStateRoundTripsSoAResumedRunContinuesExactly() throws Exception {
    float[][] rewards = {{1f, 0f, -1f}, {2f, 1f, 0f}};
    float[] uninterrupted;
    try (CausalLm policy = load();
        CausalLm reference = load();
        Learner learner = new Learner(policy, reference, settings(LossType.NCA, 1, 4096), 1)) {
      learner.update(batch(policy.codec(), rewards));
      learner.update(batch(policy.codec(), rewards));
      uninterrupted = policy.parameters().get("model.norm.weight").getArray().toFloatArray();
    }
    Path checkpoint = tmp.resolve("checkpoint");
    try (CausalLm policy = load();
        CausalLm reference = load();
        Learner learner = new Learner(policy, reference, settings(LossType.NCA, 1, 4096), 1)) {
      learner.update(batch(policy.codec(), rewards));
      policy.save(checkpoint);
      learner.optimizer().save(tmp.resolve("optimizer.safetensors"));
    }
    try (CausalLm policy = CausalLm.load(checkpoint, Device.cpu());
        CausalLm reference = load();
        Learner learner = new Learner(policy, reference, settings(LossType.NCA, 1, 4096), 1)) {
      learner.optimizer().load(tmp.resolve("optimizer.safetensors"));
      assertEquals(1, learner.optimizer().steps());
      learner.update(batch(policy.codec(), rewards));
      float[] resumed = policy.parameters().get("model.norm.weight").getArray().toFloatArray();
      assertArrayEquals(uninterrupted, resumed, 1e-6f, Arrays.toString(resumed));
    }
  }

  private static final LoraConfig LORA =
      new LoraConfig(4, 16, 0.0, LoraConfig.KNOWN_TARGETS, "base");

  @Test
  void loraTrainsOnlyTheAdapterAgainstTheBaseAsReference() throws Exception {
    try (CausalLm base = load();
        CausalLm policy = base.withAdapter(LoraAdapter.initialize(base, LORA, 3));
        Learner learner = new Learner(policy, base, settings(LossType.NCA, 4, 4096), 1)) {
      float[] baseWeights =
          base.parameters().get("model.layers.0.self_attn.q_proj.weight").getArray().toFloatArray();
      RewardBatch batch = batch(base.codec(), new float[][] {{3f, 0f, -3f}, {3f, 0f, -3f}});
      assertEquals(
          0.0,
          learner.kl(sampledBy(policy, batch)),
          1e-5,
          "adapter B = 0: policy = reference at first");
      RoundUpdate first = learner.update(batch);
      assertTrue(first.bestLogpAfter() > first.bestLogpBefore(), "NCA raises the best: " + first);
      learner.update(batch);
      double kl = learner.kl(sampledBy(policy, batch));
      assertTrue(Math.abs(kl) > 1e-4, "the adapter moved the policy: " + kl);
      assertArrayEquals(
          baseWeights,
          base.parameters().get("model.layers.0.self_attn.q_proj.weight").getArray().toFloatArray(),
          "the base stays frozen");
      Path state = tmp.resolve("lora-optimizer.safetensors");
      learner.optimizer().save(state);
      try (InputStream in = Files.newInputStream(state);
          NDManager scope = base.manager().newSubManager()) {
        Set<String> names = new HashSet<>();
        NDList.decode(scope, in).forEach(array -> names.add(array.getName()));
        assertEquals(2 * policy.trainableParameters().size() + 1, names.size());
        assertTrue(
            names.contains("m.base_model.model.model.layers.0.mlp.down_proj.lora_B.weight"),
            names.toString());
      }
    }
  }

  @Test
  void aLoraRunResumesFromItsPeftCheckpointExactly() throws Exception {
    float[][] rewards = {{1f, 0f, -1f}, {2f, 1f, 0f}};
    String probe = "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight";
    float[] uninterrupted;
    try (CausalLm base = load();
        CausalLm policy = base.withAdapter(LoraAdapter.initialize(base, LORA, 3));
        Learner learner = new Learner(policy, base, settings(LossType.NCA, 1, 4096), 1)) {
      learner.update(batch(base.codec(), rewards));
      learner.update(batch(base.codec(), rewards));
      uninterrupted = policy.trainableParameters().get(probe).getArray().toFloatArray();
    }
    Path checkpoint = tmp.resolve("lora-checkpoint");
    try (CausalLm base = load();
        CausalLm policy = base.withAdapter(LoraAdapter.initialize(base, LORA, 3));
        Learner learner = new Learner(policy, base, settings(LossType.NCA, 1, 4096), 1)) {
      learner.update(batch(base.codec(), rewards));
      PeftAdapterDirectory.save((LoraAdapter) policy.adapter(), checkpoint);
      learner.optimizer().save(checkpoint.resolve("optimizer.safetensors"));
    }
    try (CausalLm base = load();
        CausalLm policy = base.withAdapter(PeftAdapterDirectory.load(checkpoint, base));
        Learner learner = new Learner(policy, base, settings(LossType.NCA, 1, 4096), 1)) {
      learner.optimizer().load(checkpoint.resolve("optimizer.safetensors"));
      assertEquals(1, learner.optimizer().steps());
      learner.update(batch(base.codec(), rewards));
      float[] resumed = policy.trainableParameters().get(probe).getArray().toFloatArray();
      assertArrayEquals(uninterrupted, resumed, 1e-6f);
    }
  }

  @Test
  void supervisedFineTuningLowersTheLoss() {
    try (CausalLm model = load();
        AdamW optimizer =
            new AdamW(model.parameters(), LearningRateSchedule.constant(1e-2f), 0f, 1f)) {
      TextCodec codec = model.codec();
      String response = "it is great .";
      List<ScoredPrompt> examples =
          List.of(
              new ScoredPrompt(
                  "review the product :",
                  codec.encodePrompt("review the product :"),
                  List.of(new ScoredResponse(response, codec.encodeResponse(response), 0f))));
      List<Double> losses = new ArrayList<>();
      new SupervisedFineTuning(model, optimizer, 4096, 1).train(examples, 30, losses::add);
      assertEquals(30, losses.size());
      assertTrue(
          losses.get(29) < losses.get(0) / 4,
          "per-token NLL " + losses.get(0) + " -> " + losses.get(29));
    }
  }
}

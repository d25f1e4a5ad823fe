package dev.ncalign.orchestrator.loop;

import dev.ncalign.lm.model.TextCodec;
import dev.ncalign.lm.sampling.StreamSeeds;
import dev.ncalign.orchestrator.client.PolicyClient;
import dev.ncalign.orchestrator.client.RewardClient;
import dev.ncalign.orchestrator.config.RunConfig;
import dev.ncalign.orchestrator.train.RewardBatch;
import dev.ncalign.orchestrator.train.ScoredPrompt;
import dev.ncalign.orchestrator.train.ScoredResponse;
import dev.ncalign.proto.v1.Completion;
import dev.ncalign.proto.v1.GenerateResponse;
import dev.ncalign.proto.v1.SamplingParams;
import dev.ncalign.proto.v1.ScoreItem;
import java.util.ArrayList;
import java.util.List;

/**
 * Fresh batches from the live policy: K samples per prompt from the policy replicas, each scored by
 * the reward replicas. The online {@link BatchSource}, and the evaluator of both modes.
 */
public final class OnlineSampler implements BatchSource {
  private final PolicyClient policy;
  private final RewardClient reward;
  private final TextCodec codec;
  private final PromptSet prompts;
  private final RunConfig.Sampling sampling;
  private final long seed;

  public OnlineSampler(
      PolicyClient policy,
      RewardClient reward,
      TextCodec codec,
      PromptSet prompts,
      RunConfig.Sampling sampling,
      long seed) {
    this.policy = policy;
    this.reward = reward;
    this.codec = codec;
    this.prompts = prompts;
    this.sampling = sampling;
    this.seed = seed;
  }

  @Override
  public SourcedBatch next(int round) {
    // A mixed seed per round: consecutive seeds would share the sampler's streams, shifted.
    return sample(
        prompts.forRound(seed, round, sampling.promptsPerRound()), StreamSeeds.of(seed, round));
  }

  /** K scored samples for each of {@code texts}, drawn with {@code sampleSeed}. */
  public SourcedBatch sample(List<String> texts, long sampleSeed) {
    long start = System.nanoTime();
    GenerateResponse generated = policy.generate(texts, sampling.k(), params(sampleSeed));
    long generatedAt = System.nanoTime();
    List<ScoreItem> items = new ArrayList<>();
    for (Completion c : generated.getCompletionsList()) {
      items.add(
          ScoreItem.newBuilder()
              .setPrompt(texts.get(c.getPromptIndex()))
              .setResponse(c.getText())
              .build());
    }
    float[] rewards = reward.score(items);
    long scoredAt = System.nanoTime();

    List<List<ScoredResponse>> byPrompt = new ArrayList<>();
    texts.forEach(t -> byPrompt.add(new ArrayList<>()));
    long tokens = 0;
    for (int i = 0; i < generated.getCompletionsCount(); i++) {
      Completion c = generated.getCompletions(i);
      int[] ids = c.getTokenIdsList().stream().mapToInt(Integer::intValue).toArray();
      byPrompt.get(c.getPromptIndex()).add(new ScoredResponse(c.getText(), ids, rewards[i]));
      tokens += ids.length;
    }
    List<ScoredPrompt> scored = new ArrayList<>();
    for (int p = 0; p < texts.size(); p++) {
      scored.add(new ScoredPrompt(texts.get(p), codec.encodePrompt(texts.get(p)), byPrompt.get(p)));
    }
    return new SourcedBatch(
        new RewardBatch(scored),
        generated.getPolicyVersion(),
        (generatedAt - start) / 1e9,
        (scoredAt - generatedAt) / 1e9,
        tokens);
  }

  /**
   * Fresh scored samples on {@code count} held-out prompts, with a seed fixed for the whole run.
   */
  public RewardBatch evaluationBatch(int count) {
    return sample(prompts.evalPrompts(count), seed * 104_729L).batch();
  }

  private SamplingParams params(long sampleSeed) {
    return SamplingParams.newBuilder()
        .setMaxNewTokens(sampling.maxNewTokens())
        .setTemperature((float) sampling.temperature())
        .setTopP((float) sampling.topP())
        .setTopK(sampling.topK())
        .setSeed(sampleSeed)
        .build();
  }
}

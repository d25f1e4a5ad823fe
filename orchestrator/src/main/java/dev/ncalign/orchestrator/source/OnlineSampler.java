package dev.ncalign.orchestrator.source;

import dev.ncalign.lm.model.TextCodec;
import dev.ncalign.orchestrator.client.PolicyClient;
import dev.ncalign.orchestrator.client.RewardClient;
import dev.ncalign.orchestrator.config.RunConfig;
import dev.ncalign.orchestrator.train.RewardBatch;
import dev.ncalign.orchestrator.train.Sample;
import dev.ncalign.orchestrator.train.ScoredPrompt;
import dev.ncalign.orchestrator.train.ScoredResponse;
import dev.ncalign.proto.v1.Completion;
import dev.ncalign.proto.v1.GenerateResponse;
import dev.ncalign.proto.v1.SamplingParams;
import dev.ncalign.proto.v1.ScoreItem;
import java.util.ArrayList;
import java.util.List;

/**
 * K samples per prompt from the policy replicas, each scored by the reward replicas. Responses keep
 * the server's token ids, per-token log-probs, finish reason and version exactly as sampled: the
 * learner trains on those ids, never on a re-tokenisation of the text.
 */
public final class OnlineSampler {
  private final PolicyClient policy;
  private final RewardClient reward;
  private final TextCodec codec;
  private final RunConfig.Sampling sampling;

  public OnlineSampler(
      PolicyClient policy, RewardClient reward, TextCodec codec, RunConfig.Sampling sampling) {
    this.policy = policy;
    this.reward = reward;
    this.codec = codec;
    this.sampling = sampling;
  }

  /** K scored samples for each of {@code texts}, drawn with {@code sampleSeed}. */
  public Rollout sample(List<String> texts, long sampleSeed) {
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
      ScoredResponse response = scored(c, rewards[i]);
      byPrompt.get(c.getPromptIndex()).add(response);
      tokens += response.tokenIds().length;
    }
    List<ScoredPrompt> scored = new ArrayList<>();
    for (int p = 0; p < texts.size(); p++) {
      scored.add(new ScoredPrompt(texts.get(p), codec.encodePrompt(texts.get(p)), byPrompt.get(p)));
    }
    return new Rollout(
        new RewardBatch(scored),
        generated.getPolicyVersion(),
        (generatedAt - start) / 1e9,
        (scoredAt - generatedAt) / 1e9,
        tokens);
  }

  /**
   * Whether samples come from π_θ itself (temperature 1, no top-k, no top-p), so that a mean of log
   * π_θ − log π_ref over them estimates KL(π_θ‖π_ref). The server's log-probs are those of the
   * unmodified policy, not of the tempered/truncated distribution actually sampled, so they cannot
   * reweight other settings into an estimate.
   */
  public boolean samplesPolicyAsIs() {
    return sampling.temperature() == 1.0
        && sampling.topK() == 0
        && (sampling.topP() <= 0 || sampling.topP() >= 1.0);
  }

  private static ScoredResponse scored(Completion c, float reward) {
    int[] ids = c.getTokenIdsList().stream().mapToInt(Integer::intValue).toArray();
    float[] logprobs = new float[c.getTokenLogprobsCount()];
    for (int t = 0; t < logprobs.length; t++) {
      logprobs[t] = c.getTokenLogprobs(t);
    }
    return new ScoredResponse(
        c.getText(), ids, reward, new Sample(c.getPolicyVersion(), c.getFinishReason(), logprobs));
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

package dev.ncalign.orchestrator.source;

import dev.ncalign.lm.model.TextCodec;
import dev.ncalign.orchestrator.client.PolicyClient;
import dev.ncalign.orchestrator.client.PolicyClient.Slicing;
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

  /**
   * K scored samples for each prompt, drawn with {@code sampleSeed}. Conversations go to the policy
   * as conversations; the reward model and the record see each prompt's {@link Prompt#text}.
   */
  public Rollout sample(List<Prompt> prompts, long sampleSeed) {
    return sample(prompts, sampleSeed, Slicing.PER_REPLICA);
  }

  /** {@link #sample(List, long)} with the Generate cut into requests by {@code slicing}. */
  public Rollout sample(List<Prompt> prompts, long sampleSeed, Slicing slicing) {
    long start = System.nanoTime();
    GenerateResponse generated = generate(prompts, params(sampleSeed), slicing);
    long generatedAt = System.nanoTime();
    List<ScoreItem> items = new ArrayList<>();
    for (Completion c : generated.getCompletionsList()) {
      items.add(
          ScoreItem.newBuilder()
              .setPrompt(prompts.get(c.getPromptIndex()).text())
              .setResponse(c.getText())
              .build());
    }
    float[] rewards = reward.score(items);
    long scoredAt = System.nanoTime();

    List<List<ScoredResponse>> byPrompt = new ArrayList<>();
    prompts.forEach(t -> byPrompt.add(new ArrayList<>()));
    long tokens = 0;
    for (int i = 0; i < generated.getCompletionsCount(); i++) {
      Completion c = generated.getCompletions(i);
      ScoredResponse response = scored(c, rewards[i]);
      byPrompt.get(c.getPromptIndex()).add(response);
      tokens += response.tokenIds().length;
    }
    List<ScoredPrompt> scored = new ArrayList<>();
    for (int p = 0; p < prompts.size(); p++) {
      Prompt prompt = prompts.get(p);
      // The ids the server conditioned on: a conversation's rendering without added specials.
      scored.add(new ScoredPrompt(prompt.text(), prompt.ids(codec), byPrompt.get(p)));
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

  /** One Generate for prompts of one kind (a prompt set is all plain or all conversations). */
  private GenerateResponse generate(List<Prompt> prompts, SamplingParams params, Slicing slicing) {
    if (prompts.stream().allMatch(Prompt::isChat)) {
      return policy.generateConversations(
          prompts.stream().map(Prompt::conversation).toList(), sampling.k(), params, slicing);
    }
    if (prompts.stream().anyMatch(Prompt::isChat)) {
      throw new IllegalArgumentException("a batch mixes plain prompts and conversations");
    }
    return policy.generate(
        prompts.stream().map(Prompt::text).toList(), sampling.k(), params, slicing);
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

package dev.ncalign.orchestrator.source;

import dev.ncalign.lm.sampling.StreamSeeds;

/** The online {@link BatchSource}: each round, fresh samples on that round's training prompts. */
public final class OnlineSource implements BatchSource {
  private final OnlineSampler sampler;
  private final PromptSet prompts;
  private final int promptsPerRound;
  private final long seed;

  public OnlineSource(OnlineSampler sampler, PromptSet prompts, int promptsPerRound, long seed) {
    this.sampler = sampler;
    this.prompts = prompts;
    this.promptsPerRound = promptsPerRound;
    this.seed = seed;
  }

  @Override
  public Rollout next(int round) {
    return sampler.sample(
        prompts.forRound(seed, round, promptsPerRound),
        // A mixed seed per round: consecutive seeds would share the sampler's streams, shifted.
        StreamSeeds.of(seed, round));
  }
}

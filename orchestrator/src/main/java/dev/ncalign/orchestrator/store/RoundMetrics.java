package dev.ncalign.orchestrator.store;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonPOJOBuilder;
import dev.ncalign.orchestrator.config.Mode;

/**
 * One row of {@code metrics.jsonl}: what one round did. JSON keys are the snake_case component
 * names. Log-probs are sequence log-probs in nats; "best"/"worst" are the means over prompts of the
 * highest- and lowest-reward response, before and after the update (the NCA paper's likelihood
 * diagnostic: InfoNCA/DPO tend to push both down, NCA keeps the best one up). Built with {@link
 * #builder()}; rows written before {@code sampled_version}/{@code live_version} existed (one {@code
 * policy_version}) still read.
 *
 * @param round round number, the same number passed to {@link RunStore#markCheckpoint}
 * @param sampledVersion version the round's training responses were sampled from: the live policy
 *     online; null offline, where they come from a dataset
 * @param liveVersion version every policy replica serves after this round's push
 * @param step optimizer steps taken since the start of the run, after this round
 * @param optimizerSteps optimizer steps taken in this round
 * @param learnSeconds wall time of the learner's update (policy forward, backward and steps)
 * @param gradNorm mean global gradient norm (before clipping) over this round's optimizer steps
 * @param kl KL(π_θ‖π_ref) of the policy after this round's update as the replicas serve it,
 *     estimated as the mean of log π_θ − log π_ref over its fresh samples on the held-out prompts
 *     (log π_θ the server's own log-probs of what it sampled); null when the round did not
 *     evaluate, or when sampling is not plain π_θ sampling (temperature ≠ 1, top-k, top-p), where
 *     that mean is not a KL estimate
 * @param meanLength mean response length in tokens
 * @param distinct2 distinct bigrams / all bigrams over the round's responses (collapses under
 *     reward hacking)
 * @param dropped responses whose reward was not finite, left out of the loss
 * @param pushSeconds wall time of publishing the round's weights to every replica
 * @param pushBytes bytes of the weight file sent to one replica this round
 * @param tokensPerSecond generated tokens per second of generation time
 * @param evalReward mean reward on the held-out prompts, when the round evaluated them; null
 *     otherwise
 * @param staleness the live version when the round's training started minus the version its
 *     responses were sampled from: 0 in the synchronous loop, at most {@code loop.max_staleness}
 *     when sampling runs ahead; null offline
 * @param learnerWaitSeconds wall time the learner spent waiting for this round's rollout and,
 *     before its push, for the rollouts sampled ahead on the version it replaces
 * @param samplerWaitSeconds wall time the sampler spent waiting for the version this round samples
 *     from to go live
 * @param evalSeconds wall time of the held-out evaluation: sampling and scoring (by the sampler,
 *     which overlaps the learner's next round when {@code loop.max_staleness} ≥ 1) and the
 *     reference half of the KL; 0 when the round did not evaluate
 * @param roundSeconds wall time of the round on the learner's side, from waiting for its rollout to
 *     the end of its push (its held-out evaluation is in {@code eval_seconds})
 * @param referenceSeconds wall time of scoring the round's responses under the reference: done by
 *     the sampler thread right after it samples the round, so that with {@code loop.max_staleness}
 *     ≥ 1 it overlaps the learner's previous round (by the learner, inside the round, for a round
 *     resumed from a checkpoint or sampled again)
 */
@JsonDeserialize(builder = RoundMetrics.Builder.class)
public record RoundMetrics(
    int round,
    Mode mode,
    Long sampledVersion,
    long liveVersion,
    long step,
    double meanReward,
    double minReward,
    double maxReward,
    double loss,
    double bestLogpBefore,
    double bestLogpAfter,
    double worstLogpBefore,
    double worstLogpAfter,
    double kl,
    double meanLength,
    double distinct2,
    int dropped,
    int optimizerSteps,
    double gradNorm,
    double generateSeconds,
    double scoreSeconds,
    double learnSeconds,
    double pushSeconds,
    long pushBytes,
    double tokensPerSecond,
    Double evalReward,
    Long staleness,
    double learnerWaitSeconds,
    double samplerWaitSeconds,
    double evalSeconds,
    double roundSeconds,
    double referenceSeconds) {

  public static Builder builder() {
    return new Builder();
  }

  /** Seconds the round spent in generate, score, reference scoring, learn and push. */
  public double phaseSeconds() {
    return generateSeconds + scoreSeconds + referenceSeconds + learnSeconds + pushSeconds;
  }

  /** Names every field it sets; unset numbers are 0 and unset nullable ones null. */
  @JsonPOJOBuilder(withPrefix = "")
  public static final class Builder {
    private int round;
    private Mode mode;
    private Long sampledVersion;
    private Long liveVersion;
    private Long legacyPolicyVersion;
    private long step;
    private double meanReward;
    private double minReward;
    private double maxReward;
    private double loss;
    private double bestLogpBefore;
    private double bestLogpAfter;
    private double worstLogpBefore;
    private double worstLogpAfter;
    private double kl = Double.NaN;
    private double meanLength;
    private double distinct2;
    private int dropped;
    private int optimizerSteps;
    private double gradNorm;
    private double generateSeconds;
    private double scoreSeconds;
    private double learnSeconds;
    private double pushSeconds;
    private long pushBytes;
    private double tokensPerSecond;
    private Double evalReward;
    private Long staleness;
    private double learnerWaitSeconds;
    private double samplerWaitSeconds;
    private double evalSeconds;
    private double roundSeconds;
    private double referenceSeconds;

    public Builder round(int v) {
      round = v;
      return this;
    }

    public Builder mode(Mode v) {
      mode = v;
      return this;
    }

    public Builder sampledVersion(Long v) {
      sampledVersion = v;
      return this;
    }

    public Builder liveVersion(long v) {
      liveVersion = v;
      return this;
    }

    /**
     * Rows before 0.2 had only {@code policy_version}: the version sampled from online, the live
     * version before the round's push offline; either way the push made it {@code + 1}.
     */
    public Builder policyVersion(long v) {
      legacyPolicyVersion = v;
      return this;
    }

    public Builder step(long v) {
      step = v;
      return this;
    }

    public Builder meanReward(double v) {
      meanReward = v;
      return this;
    }

    public Builder minReward(double v) {
      minReward = v;
      return this;
    }

    public Builder maxReward(double v) {
      maxReward = v;
      return this;
    }

    public Builder loss(double v) {
      loss = v;
      return this;
    }

    public Builder bestLogpBefore(double v) {
      bestLogpBefore = v;
      return this;
    }

    public Builder bestLogpAfter(double v) {
      bestLogpAfter = v;
      return this;
    }

    public Builder worstLogpBefore(double v) {
      worstLogpBefore = v;
      return this;
    }

    public Builder worstLogpAfter(double v) {
      worstLogpAfter = v;
      return this;
    }

    public Builder kl(double v) {
      kl = v;
      return this;
    }

    public Builder meanLength(double v) {
      meanLength = v;
      return this;
    }

    public Builder distinct2(double v) {
      distinct2 = v;
      return this;
    }

    public Builder dropped(int v) {
      dropped = v;
      return this;
    }

    public Builder optimizerSteps(int v) {
      optimizerSteps = v;
      return this;
    }

    public Builder gradNorm(double v) {
      gradNorm = v;
      return this;
    }

    public Builder generateSeconds(double v) {
      generateSeconds = v;
      return this;
    }

    public Builder scoreSeconds(double v) {
      scoreSeconds = v;
      return this;
    }

    public Builder learnSeconds(double v) {
      learnSeconds = v;
      return this;
    }

    public Builder referenceSeconds(double v) {
      referenceSeconds = v;
      return this;
    }

    public Builder pushSeconds(double v) {
      pushSeconds = v;
      return this;
    }

    public Builder pushBytes(long v) {
      pushBytes = v;
      return this;
    }

    public Builder tokensPerSecond(double v) {
      tokensPerSecond = v;
      return this;
    }

    public Builder evalReward(Double v) {
      evalReward = v;
      return this;
    }

    public Builder staleness(Long v) {
      staleness = v;
      return this;
    }

    public Builder learnerWaitSeconds(double v) {
      learnerWaitSeconds = v;
      return this;
    }

    public Builder samplerWaitSeconds(double v) {
      samplerWaitSeconds = v;
      return this;
    }

    public Builder evalSeconds(double v) {
      evalSeconds = v;
      return this;
    }

    public Builder roundSeconds(double v) {
      roundSeconds = v;
      return this;
    }

    public RoundMetrics build() {
      Long sampled = sampledVersion;
      long live;
      if (liveVersion != null) {
        live = liveVersion;
      } else if (legacyPolicyVersion != null) {
        live = legacyPolicyVersion + 1;
        sampled = mode == Mode.ONLINE ? legacyPolicyVersion : null;
      } else {
        throw new IllegalArgumentException("round " + round + " has no live_version");
      }
      return new RoundMetrics(
          round,
          mode,
          sampled,
          live,
          step,
          meanReward,
          minReward,
          maxReward,
          loss,
          bestLogpBefore,
          bestLogpAfter,
          worstLogpBefore,
          worstLogpAfter,
          kl,
          meanLength,
          distinct2,
          dropped,
          optimizerSteps,
          gradNorm,
          generateSeconds,
          scoreSeconds,
          learnSeconds,
          pushSeconds,
          pushBytes,
          tokensPerSecond,
          evalReward,
          staleness,
          learnerWaitSeconds,
          samplerWaitSeconds,
          evalSeconds,
          roundSeconds,
          referenceSeconds);
    }
  }
}

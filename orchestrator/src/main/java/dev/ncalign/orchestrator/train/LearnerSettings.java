package dev.ncalign.orchestrator.train;

import dev.ncalign.orchestrator.loss.LossType;

/**
 * How the learner updates the policy.
 *
 * @param loss which objective
 * @param beta scale of the implicit reward r = β·(log π_θ − log π_ref), &gt; 0
 * @param alpha temperature of the target weights softmax(reward/α), &gt; 0
 * @param epochs passes over one round's batch
 * @param minibatchTokens token budget of one forward/backward pass (bounds memory)
 * @param gradAccumulation minibatches whose gradients are summed before one optimizer step
 * @param schedule learning rate per optimizer step
 * @param weightDecay AdamW's decoupled weight decay
 * @param maxGradNorm global gradient-norm clip (≤ 0: off)
 */
public record LearnerSettings(
    LossType loss,
    float beta,
    float alpha,
    int epochs,
    int minibatchTokens,
    int gradAccumulation,
    LearningRateSchedule schedule,
    float weightDecay,
    float maxGradNorm) {

  public LearnerSettings {
    if (epochs < 1 || minibatchTokens < 1 || gradAccumulation < 1) {
      throw new IllegalArgumentException(
          "epochs, minibatchTokens and gradAccumulation must be >= 1");
    }
  }
}

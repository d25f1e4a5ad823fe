package dev.ncalign.orchestrator.train;

/**
 * Linear warmup to {@code peak}, then a cosine decay to {@code peak · finalFraction} at {@code
 * totalSteps}; flat after that (an online run may outlast its planned step count).
 */
public record LearningRateSchedule(
    float peak, int warmupSteps, int totalSteps, float finalFraction) {

  public LearningRateSchedule {
    if (!(peak > 0f)) {
      throw new IllegalArgumentException("learning rate must be > 0, got " + peak);
    }
    if (warmupSteps < 0 || totalSteps < 1) {
      throw new IllegalArgumentException("need warmupSteps >= 0 and totalSteps >= 1");
    }
  }

  /** A constant learning rate. */
  public static LearningRateSchedule constant(float lr) {
    return new LearningRateSchedule(lr, 0, 1, 1f);
  }

  /** The learning rate of optimizer step {@code step} (0-based). */
  public float at(int step) {
    if (step < warmupSteps) {
      return peak * (step + 1) / (warmupSteps + 1);
    }
    int decaySteps = Math.max(1, totalSteps - warmupSteps);
    double progress = Math.min(1.0, (step - warmupSteps) / (double) decaySteps);
    double cosine = 0.5 * (1 + Math.cos(Math.PI * progress));
    return (float) (peak * (finalFraction + (1 - finalFraction) * cosine));
  }
}

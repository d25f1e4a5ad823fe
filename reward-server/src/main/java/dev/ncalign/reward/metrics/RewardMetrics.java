package dev.ncalign.reward.metrics;

import dev.ncalign.reward.serving.DynamicBatcher;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.core.metrics.Histogram;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the model does, as meters: the size and duration of each ONNX Runtime run, items scored, the
 * rewards they got, non-finite rewards, and how many items wait in front of the model.
 */
public final class RewardMetrics {

  /** Batch-size histogram bounds: powers of two, well past the default max batch size of 32. */
  private static final double[] BATCH_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};

  /** Reward histogram bounds, symmetric around zero: reward models emit logits of either sign. */
  private static final double[] REWARD_BUCKETS = {-8, -4, -2, -1, -0.5, 0, 0.5, 1, 2, 4, 8};

  private final PrometheusMeterRegistry registry;
  private final DistributionSummary batchSize;
  private final Timer modelRun;
  private final Counter scored;
  private final Histogram rewards;

  /**
   * Registers the per-run meters in {@code registry}; {@link #watch} adds those the scorer owns.
   */
  public RewardMetrics(PrometheusMeterRegistry registry) {
    this.registry = registry;
    batchSize =
        DistributionSummary.builder("ncalign.reward.server.batch.size")
            .description("Items in one model run")
            .serviceLevelObjectives(BATCH_BUCKETS)
            .register(registry);
    modelRun =
        Timer.builder("ncalign.reward.server.model.run")
            .description("ONNX Runtime time of one batch")
            .publishPercentileHistogram()
            // Small models run a batch in well under Micrometer's default lowest bucket of 1 ms.
            .minimumExpectedValue(Duration.ofNanos(100_000))
            .register(registry);
    scored =
        Counter.builder("ncalign.reward.server.scored.items")
            .description("Items scored by the model, non-finite rewards included")
            .register(registry);
    // A Prometheus client histogram in the same registry: Micrometer's DistributionSummary refuses
    // bucket bounds at or below zero, and rewards are often negative. No exemplars: there is no
    // tracer.
    rewards =
        Histogram.builder()
            .name("ncalign_reward_server_reward")
            .help("Finite rewards produced by the model")
            .classicUpperBounds(REWARD_BUCKETS)
            .classicOnly()
            .withoutExemplars()
            .register(registry.getPrometheusRegistry());
  }

  /**
   * Reads the queue depth from {@code batcher} and the non-finite count from {@code nonFinite} at
   * each scrape, so the series and {@code GetInfo.non_finite_count} are one number. Micrometer
   * holds both weakly; the scorer that owns them outlives every scrape.
   */
  public void watch(DynamicBatcher<?, ?> batcher, AtomicLong nonFinite) {
    Gauge.builder("ncalign.reward.server.queue.depth", batcher, DynamicBatcher::queuedItems)
        .description("Items submitted and not yet in a model run")
        .register(registry);
    FunctionCounter.builder("ncalign.reward.server.nonfinite.rewards", nonFinite, AtomicLong::get)
        .description(
            "Rewards that were NaN or infinite (returned as they are; see GetInfo.non_finite_count)")
        .register(registry);
  }

  /** One model run took {@code nanos} and produced {@code batchRewards}, one per item. */
  public void modelRan(long nanos, float[] batchRewards) {
    batchSize.record(batchRewards.length);
    modelRun.record(nanos, TimeUnit.NANOSECONDS);
    scored.increment(batchRewards.length);
    for (float reward : batchRewards) {
      if (Float.isFinite(reward)) {
        rewards.observe(reward);
      }
    }
  }
}

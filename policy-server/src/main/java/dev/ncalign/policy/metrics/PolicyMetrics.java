package dev.ncalign.policy.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * What the policy does, as meters: the size of each Generate batch (prompts × samples), tokens
 * generated, the live weight version, how long each weight swap took and whether it was accepted,
 * how long pushes spent receiving, and the run queue: requests waiting and running, time waited for
 * a slot, and time model work paused for a push.
 */
public final class PolicyMetrics {

  /**
   * Batch-size histogram bounds: powers of two up to 64 prompts × 16 samples, the default limits.
   */
  private static final double[] BATCH_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};

  private final DistributionSummary batchSize;
  private final Counter tokens;
  private final Timer swapsAccepted;
  private final Timer swapsRejected;
  private final Timer pushReceive;
  private final Timer queueWait;
  private final Timer swapPause;
  private final MeterRegistry registry;

  /** Registers the meters in {@code registry}; the live-version gauge reads {@code liveVersion}. */
  public PolicyMetrics(MeterRegistry registry, LongSupplier liveVersion) {
    batchSize =
        DistributionSummary.builder("ncalign.policy.server.generate.batch.size")
            .description("Sequences sampled together by one Generate call (prompts × num_samples)")
            .serviceLevelObjectives(BATCH_BUCKETS)
            .register(registry);
    tokens =
        Counter.builder("ncalign.policy.server.generated.tokens")
            .description("Tokens sampled by Generate, over all completions")
            .register(registry);
    // Held strongly: a gauge keeps only a weak reference to its object, and nothing else holds this
    // lambda.
    Gauge.builder("ncalign.policy.server.live.version", liveVersion, LongSupplier::getAsLong)
        .description("Weight version Generate and ComputeLogprobs serve")
        .strongReference(true)
        .register(registry);
    swapsAccepted = swapTimer(registry, "ok");
    swapsRejected = swapTimer(registry, "rejected");
    pushReceive =
        Timer.builder("ncalign.policy.server.push.receive")
            .description("PushWeights streams, from the header to the last chunk")
            .register(registry);
    queueWait =
        Timer.builder("ncalign.policy.server.queue.wait")
            .description("Time Generate and ComputeLogprobs calls waited for a run slot")
            .register(registry);
    swapPause =
        Timer.builder("ncalign.policy.server.swap.pause")
            .description("Pauses of running model work while a push held swap priority")
            .register(registry);
    this.registry = registry;
  }

  /**
   * Registers the run-queue gauges: requests {@code waiting} for a slot and {@code running} model
   * work.
   */
  public void watchQueue(IntSupplier waiting, IntSupplier running) {
    Gauge.builder("ncalign.policy.server.queue.waiting", waiting, IntSupplier::getAsInt)
        .description("Generate and ComputeLogprobs calls waiting for a run slot")
        .strongReference(true)
        .register(registry);
    Gauge.builder("ncalign.policy.server.queue.running", running, IntSupplier::getAsInt)
        .description("Generate and ComputeLogprobs calls holding a run slot")
        .strongReference(true)
        .register(registry);
  }

  /** Meters that record nothing, for a policy run without a metrics endpoint. */
  public static PolicyMetrics disabled() {
    // A composite registry with no children makes no-op meters.
    return new PolicyMetrics(new CompositeMeterRegistry(), () -> 0);
  }

  private static Timer swapTimer(MeterRegistry registry, String outcome) {
    return Timer.builder("ncalign.policy.server.swap")
        .description("PushWeights verification, load and swap, by outcome")
        .tag("outcome", outcome)
        .register(registry);
  }

  /**
   * A Generate call sampled {@code sequences} completions holding {@code generatedTokens} tokens in
   * all.
   */
  public void generated(int sequences, long generatedTokens) {
    batchSize.record(sequences);
    tokens.increment(generatedTokens);
  }

  /**
   * A pushed weight file took {@code nanos} to verify and load, and went live if {@code accepted}.
   */
  public void swapped(long nanos, boolean accepted) {
    (accepted ? swapsAccepted : swapsRejected).record(nanos, TimeUnit.NANOSECONDS);
  }

  /** A push stream took {@code nanos} from its header to its last chunk. */
  public void received(long nanos) {
    pushReceive.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** A request waited {@code nanos} for a run slot (0 when one was free). */
  public void queued(long nanos) {
    queueWait.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** Running model work paused {@code nanos} for a push. */
  public void paused(long nanos) {
    swapPause.record(nanos, TimeUnit.NANOSECONDS);
  }
}

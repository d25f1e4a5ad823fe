package dev.ncalign.orchestrator.web;

import dev.ncalign.orchestrator.loop.RoundListener;
import dev.ncalign.orchestrator.store.RoundMetrics;
import dev.ncalign.orchestrator.train.RewardBatch;
import dev.ncalign.orchestrator.train.ScoredResponse;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.core.metrics.Histogram;
import java.time.Duration;
import java.util.List;

/**
 * The orchestrator's Prometheus metrics: rounds completed, live policy version, last mean reward, a
 * histogram of every sampled reward, non-finite rewards, and the time of each round phase. Fed one
 * round at a time; {@link #registry()} is open for anything else the loop wants to record.
 */
public final class OrchestratorMetrics implements RoundListener {

  /** The content type of {@link #scrape()} (Prometheus text format 0.0.4). */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  /** Reward histogram buckets, symmetric around zero: reward models emit logits of either sign. */
  private static final double[] REWARD_BUCKETS = {-8, -4, -2, -1, -0.5, 0, 0.5, 1, 2, 4, 8};

  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Counter rounds;
  private final Counter nonFinite;
  private final Histogram rewards;
  private final List<Timer> phases;
  private final MultiGauge replicaUp;
  private final MultiGauge replicaOutages;
  private volatile ReplicaStatus replicaStatus = ReplicaStatus.none();
  private volatile long liveVersion;
  private volatile double lastMeanReward = Double.NaN;
  private volatile double staleness = Double.NaN;

  public OrchestratorMetrics() {
    rounds =
        Counter.builder("ncalign.rounds.completed")
            .description("Rounds completed by this process")
            .register(registry);
    nonFinite =
        Counter.builder("ncalign.rewards.nonfinite")
            .description(
                "Sampled responses whose reward was NaN or infinite (dropped from the loss)")
            .register(registry);
    // A Prometheus client histogram in the same registry rather than a Micrometer
    // DistributionSummary:
    // Micrometer rejects bucket boundaries at or below zero, and half of all rewards may be
    // negative.
    // No exemplars: there are no traces to link, and they would need a tracer library Micrometer
    // omits.
    rewards =
        Histogram.builder()
            .name("ncalign_reward")
            .help("Reward of every sampled response with a finite reward")
            .classicUpperBounds(REWARD_BUCKETS)
            .classicOnly()
            .withoutExemplars()
            .register(registry.getPrometheusRegistry());
    phases =
        List.of(
            phase("generate"),
            phase("score"),
            phase("learner_wait"),
            phase("reference"),
            phase("learn"),
            phase("push"),
            phase("eval"));
    Gauge.builder("ncalign.round.staleness", this, m -> m.staleness)
        .description(
            "Versions between the live policy when the last round's training started and the one"
                + " its samples came from")
        .register(registry);
    Gauge.builder("ncalign.policy.live.version", this, m -> m.liveVersion)
        .description("Policy version the replicas serve after the last round")
        .register(registry);
    Gauge.builder("ncalign.reward.mean.last", this, m -> m.lastMeanReward)
        .description("Mean reward of the last round's samples")
        .register(registry);
    replicaUp =
        MultiGauge.builder("ncalign.replica.up")
            .description("1 while calls go to the replica, 0 while it is down or refused")
            .register(registry);
    replicaOutages =
        MultiGauge.builder("ncalign.replica.outages")
            .description("Times the replica went down during this run")
            .register(registry);
  }

  /**
   * Exports {@code status}'s replicas (role, target) as {@code ncalign_replica_up} and {@code
   * ncalign_replica_outages}, read at each scrape; replicas that vanish leave the series.
   */
  public void trackReplicas(ReplicaStatus status) {
    replicaStatus = status;
  }

  private void refreshReplicas() {
    List<ReplicaStatus.Replica> replicas = replicaStatus.replicas();
    replicaUp.register(
        replicas.stream().map(r -> MultiGauge.Row.of(tags(r), r.healthy() ? 1 : 0)).toList(), true);
    replicaOutages.register(
        replicas.stream().map(r -> MultiGauge.Row.of(tags(r), r.outages())).toList(), true);
  }

  private static Tags tags(ReplicaStatus.Replica replica) {
    return Tags.of("role", replica.role().name().toLowerCase(), "target", replica.target());
  }

  private Timer phase(String name) {
    return Timer.builder("ncalign.round.phase")
        .description("Wall time of one phase of a round")
        .tag("phase", name)
        .register(registry);
  }

  /** Where the meters live; add the loop's own meters here. */
  public MeterRegistry registry() {
    return registry;
  }

  /**
   * Sets the gauges from the last round of a resumed run, so they do not read zero until its next
   * round. Counters and histograms are per process, as Prometheus expects, and are left alone.
   */
  public void restore(RoundMetrics last) {
    updateGauges(last);
  }

  @Override
  public void roundCompleted(RoundMetrics metrics, RewardBatch batch) {
    rounds.increment();
    updateGauges(metrics);
    for (ScoredResponse response : batch.responses()) {
      if (response.present()) {
        rewards.observe(response.reward());
      } else {
        nonFinite.increment();
      }
    }
    double[] seconds = {
      metrics.generateSeconds(),
      metrics.scoreSeconds(),
      metrics.learnerWaitSeconds(),
      metrics.referenceSeconds(),
      metrics.learnSeconds(),
      metrics.pushSeconds(),
      metrics.evalSeconds()
    };
    for (int i = 0; i < seconds.length; i++) {
      phases.get(i).record(Duration.ofNanos(Math.round(seconds[i] * 1e9)));
    }
  }

  private void updateGauges(RoundMetrics metrics) {
    liveVersion = metrics.liveVersion();
    lastMeanReward = metrics.meanReward();
    staleness = metrics.staleness() == null ? Double.NaN : metrics.staleness();
  }

  /** The Prometheus text exposition of every meter. */
  public String scrape() {
    refreshReplicas();
    return registry.scrape();
  }
}

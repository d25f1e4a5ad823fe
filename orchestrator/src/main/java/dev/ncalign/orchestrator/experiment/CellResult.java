package dev.ncalign.orchestrator.experiment;

import dev.ncalign.orchestrator.store.RoundMetrics;
import java.util.List;
import java.util.Objects;

/**
 * What one grid cell produced.
 *
 * @param metrics its rows, one per round
 * @param wallSeconds wall time of the whole cell
 */
public record CellResult(GridCell cell, List<RoundMetrics> metrics, double wallSeconds) {

  /** Mean reward of fresh samples on the held-out prompts at the last evaluation. */
  public double finalEvalReward() {
    return metrics.stream()
        .map(RoundMetrics::evalReward)
        .filter(Objects::nonNull)
        .reduce((a, b) -> b)
        .orElse(Double.NaN);
  }

  /** Mean reward of fresh samples on the held-out prompts at the first evaluation. */
  public double firstEvalReward() {
    return metrics.stream()
        .map(RoundMetrics::evalReward)
        .filter(Objects::nonNull)
        .findFirst()
        .orElse(Double.NaN);
  }

  /** KL estimate of the last round. */
  public double finalKl() {
    return metrics.isEmpty() ? Double.NaN : metrics.get(metrics.size() - 1).kl();
  }

  /**
   * Mean over rounds of what one update did to the log-prob of each prompt's best response (after −
   * before, nats): the paper's claim is that this is positive for NCA and may be negative for
   * InfoNCA/DPO.
   */
  public double meanBestLogpChange() {
    return metrics.stream()
        .mapToDouble(m -> m.bestLogpAfter() - m.bestLogpBefore())
        .average()
        .orElse(Double.NaN);
  }

  /**
   * How the best responses' log-probs moved over the run: their mean (before each round's update)
   * over the last {@code window} rounds minus over the first {@code window}. With {@code window} =
   * one pass over an offline dataset, both means cover the same responses.
   */
  public double bestLogpTrend(int window) {
    return trend(window, RoundMetrics::bestLogpBefore);
  }

  /** {@link #bestLogpTrend} for each prompt's worst response. */
  public double worstLogpTrend(int window) {
    return trend(window, RoundMetrics::worstLogpBefore);
  }

  private double trend(int window, java.util.function.ToDoubleFunction<RoundMetrics> logp) {
    int w = Math.max(1, Math.min(window, metrics.size() / 2));
    if (metrics.size() < 2) {
      return Double.NaN;
    }
    double first = metrics.subList(0, w).stream().mapToDouble(logp).average().orElse(Double.NaN);
    double last =
        metrics.subList(metrics.size() - w, metrics.size()).stream()
            .mapToDouble(logp)
            .average()
            .orElse(Double.NaN);
    return last - first;
  }

  /** The same for each prompt's worst response. */
  public double meanWorstLogpChange() {
    return metrics.stream()
        .mapToDouble(m -> m.worstLogpAfter() - m.worstLogpBefore())
        .average()
        .orElse(Double.NaN);
  }
}

package dev.ncalign.cli;

import dev.ncalign.orchestrator.report.MetricsPlot;
import dev.ncalign.orchestrator.store.RoundMetrics;
import dev.ncalign.orchestrator.store.RunStore;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * After a run: the plot of its metrics and the headline numbers (first round vs. the last three).
 */
final class RunSummary {
  private RunSummary() {}

  /**
   * Writes {@code metrics.png} into the run directory and prints the summary; returns the plot's
   * path.
   */
  static Path write(RunStore store, PrintStream out) {
    List<RoundMetrics> metrics = store.metrics();
    Path plot = store.dir().resolve("metrics.png");
    if (metrics.isEmpty()) {
      return plot;
    }
    MetricsPlot.plotRun(metrics, plot);
    RoundMetrics first = metrics.get(0);
    List<RoundMetrics> last = metrics.subList(Math.max(0, metrics.size() - 3), metrics.size());
    out.printf(
        "mean reward of the rounds' samples: round %d %.3f -> last %d rounds %.3f%n",
        first.round(),
        first.meanReward(),
        last.size(),
        last.stream().mapToDouble(RoundMetrics::meanReward).average().orElse(Double.NaN));
    List<RoundMetrics> evaluated = metrics.stream().filter(m -> m.evalReward() != null).toList();
    if (!evaluated.isEmpty()) {
      // Offline, the rounds' own rewards are the dataset's: only the held-out evaluation shows
      // progress.
      RoundMetrics firstEval = evaluated.get(0);
      RoundMetrics lastEval = evaluated.get(evaluated.size() - 1);
      out.printf(
          "held-out reward of fresh samples: round %d %.3f -> round %d %.3f%n",
          firstEval.round(), firstEval.evalReward(), lastEval.round(), lastEval.evalReward());
    }
    out.printf(
        "response length: %.1f -> %.1f tokens; distinct-2: %.2f -> %.2f%n",
        first.meanLength(),
        last.get(last.size() - 1).meanLength(),
        first.distinct2(),
        last.get(last.size() - 1).distinct2());
    out.printf(
        "best-response log-prob: %.2f -> %.2f; worst: %.2f -> %.2f%n",
        first.bestLogpBefore(),
        last.get(last.size() - 1).bestLogpAfter(),
        first.worstLogpBefore(),
        last.get(last.size() - 1).worstLogpAfter());
    out.println("metrics: " + store.dir().resolve("metrics.jsonl") + "  plot: " + plot);
    return plot;
  }
}

package dev.ncalign.orchestrator.experiment;

import dev.ncalign.orchestrator.config.Mode;
import dev.ncalign.orchestrator.loss.LossType;
import dev.ncalign.orchestrator.report.MetricsPlot;
import dev.ncalign.orchestrator.store.RoundMetrics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * {@code report.md} and its PNG plots for a finished grid. Every number in it is computed from the
 * cells' metrics; the text around the numbers says what was measured and with which command.
 */
public final class ComparisonReport {
  private ComparisonReport() {}

  /**
   * Writes the plots and {@code report.md} into {@code dir}; returns the report's path.
   *
   * @param command the command line that produced the results, quoted in the report
   * @param passRounds rounds that make one pass over the offline dataset (the trend window)
   * @param setup one line describing the grid's shared settings
   */
  public static Path write(
      Path dir, List<CellResult> results, int passRounds, String command, String setup) {
    for (Mode mode : Mode.values()) {
      plot(
          dir,
          "eval-reward-" + mode + ".png",
          results,
          mode,
          RoundMetrics::evalReward,
          "held-out reward of fresh samples, " + mode);
      plot(
          dir,
          "kl-" + mode + ".png",
          results,
          mode,
          RoundMetrics::kl,
          "KL(policy || reference) estimate, " + mode);
      // Averaged over a pass: an offline round's best responses depend on which slice of the
      // dataset it
      // drew, and only whole passes hold the same responses.
      plot(
          dir,
          "best-logp-" + mode + ".png",
          results,
          mode,
          passMean(results, passRounds, RoundMetrics::bestLogpBefore),
          "log-prob of each prompt's best response, "
              + mode
              + " (mean over "
              + passRounds
              + " rounds)");
      plot(
          dir,
          "worst-logp-" + mode + ".png",
          results,
          mode,
          passMean(results, passRounds, RoundMetrics::worstLogpBefore),
          "log-prob of each prompt's worst response, "
              + mode
              + " (mean over "
              + passRounds
              + " rounds)");
    }

    StringBuilder md = new StringBuilder();
    md.append("# Offline vs. online, NCA vs. InfoNCA/DPO\n\n");
    md.append("Produced by `").append(command).append("`.\n\n").append(setup).append("\n\n");
    md.append(
            "Each cell trains the same base policy with the same update budget; offline cells revisit one dataset ")
        .append(
            "sampled from the base policy before training, online cells sample fresh every round. Rewards come ")
        .append(
            "from the embedded reward model; the held-out reward is the mean reward of fresh samples on prompts ")
        .append("no cell trains on. Values are means over seeds.\n\n");
    md.append(
            "| cell | seeds | held-out reward first → last | KL last round | Δ best log-prob per update | ")
        .append(
            "Δ worst log-prob per update | best log-prob trend | worst log-prob trend | wall time (s) |\n")
        .append("|---|---|---|---|---|---|---|---|---|\n");
    Map<String, List<CellResult>> bySeries = new LinkedHashMap<>();
    results.forEach(
        r -> bySeries.computeIfAbsent(r.cell().series(), s -> new ArrayList<>()).add(r));
    bySeries.forEach(
        (name, runs) ->
            md.append(
                String.format(
                    "| %s | %d | %.3f → %.3f | %.3f | %+.3f | %+.3f | %+.3f | %+.3f | %.0f |%n",
                    name,
                    runs.size(),
                    mean(runs, CellResult::firstEvalReward),
                    mean(runs, CellResult::finalEvalReward),
                    mean(runs, CellResult::finalKl),
                    mean(runs, CellResult::meanBestLogpChange),
                    mean(runs, CellResult::meanWorstLogpChange),
                    mean(runs, r -> r.bestLogpTrend(passRounds)),
                    mean(runs, r -> r.worstLogpTrend(passRounds)),
                    mean(runs, CellResult::wallSeconds))));
    md.append("\n").append(findings(bySeries, passRounds)).append("\n");
    md.append(
        """

        ![held-out reward, offline](eval-reward-offline.png) ![held-out reward, online](eval-reward-online.png)

        ![best-response log-prob, offline](best-logp-offline.png) ![best-response log-prob, online](best-logp-online.png)

        ![worst-response log-prob, offline](worst-logp-offline.png) ![worst-response log-prob, online](worst-logp-online.png)

        ![KL, offline](kl-offline.png) ![KL, online](kl-online.png)

        "Δ best log-prob per update" is the mean over rounds of log π(best response) after the round's update
        minus before it, for each prompt's highest-reward response (nats). "Best log-prob trend" is the mean
        log π(best response) before the update over the last pass over the offline dataset minus over the
        first pass (the same window of rounds online, where the responses are new each round): offline, both
        windows hold the same responses, so it shows whether training raised or lowered their absolute
        likelihood, the NCA paper's diagnostic. The plots show the per-round values, so a falling line means
        the policy is losing likelihood on what it was rewarded for. KL is estimated on fresh samples of the
        updated policy (online: the round's samples; offline: the held-out evaluation samples).
        """);
    Path report = dir.resolve("report.md");
    try {
      Files.writeString(report, md.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + report, e);
    }
    return report;
  }

  /**
   * The paper's claim, checked cell by cell: does each loss raise the best response's likelihood?
   */
  static String findings(Map<String, List<CellResult>> bySeries, int passRounds) {
    StringBuilder text = new StringBuilder("What happened here:\n\n");
    for (Mode mode : Mode.values()) {
      for (LossType loss : LossType.values()) {
        List<CellResult> runs = bySeries.get(new GridCell(loss, mode, 0).series());
        if (runs == null) {
          continue;
        }
        double change = mean(runs, CellResult::meanBestLogpChange);
        double trend = mean(runs, r -> r.bestLogpTrend(passRounds));
        text.append(
            String.format(
                "- %s %s: each update %s the best response's log-prob by %.3f nats on average; "
                    + "over the run the best responses' log-prob %s by %.3f nats (last %d rounds vs. first %d).%n",
                loss,
                mode,
                change >= 0 ? "raised" : "lowered",
                Math.abs(change),
                trend >= 0 ? "rose" : "fell",
                Math.abs(trend),
                passRounds,
                passRounds));
      }
    }
    return text.toString();
  }

  /** One line per series (seeds averaged), for the cells of {@code mode}. */
  private static void plot(
      Path dir,
      String file,
      List<CellResult> results,
      Mode mode,
      Function<RoundMetrics, Double> y,
      String title) {
    Map<String, List<List<RoundMetrics>>> series = new LinkedHashMap<>();
    for (CellResult r : results) {
      if (r.cell().mode() == mode) {
        series.computeIfAbsent(r.cell().series(), s -> new ArrayList<>()).add(r.metrics());
      }
    }
    MetricsPlot.plotCompareMean(series, y, title, dir.resolve(file));
  }

  /**
   * {@code value} of each row averaged with the rows before it, over a trailing window of {@code
   * window} rounds.
   */
  private static Function<RoundMetrics, Double> passMean(
      List<CellResult> results, int window, ToDoubleFunction<RoundMetrics> value) {
    Map<RoundMetrics, Double> smoothed = new IdentityHashMap<>();
    for (CellResult r : results) {
      List<RoundMetrics> rows = r.metrics();
      for (int i = 0; i < rows.size(); i++) {
        List<RoundMetrics> span = rows.subList(Math.max(0, i - window + 1), i + 1);
        smoothed.put(rows.get(i), span.stream().mapToDouble(value).average().orElse(Double.NaN));
      }
    }
    return smoothed::get;
  }

  private static double mean(List<CellResult> runs, ToDoubleFunction<CellResult> value) {
    return runs.stream().mapToDouble(value).average().orElse(Double.NaN);
  }
}

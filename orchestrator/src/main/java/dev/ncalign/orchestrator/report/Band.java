package dev.ncalign.orchestrator.report;

import dev.ncalign.orchestrator.store.RoundMetrics;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Mean and standard deviation of one measure per round over several runs (e.g. seeds of a grid
 * cell).
 */
record Band(double[] rounds, double[] means, double[] deviations) {

  /** Rounds some run lacks (shorter or unfinished runs) average over the runs that have them. */
  static Band of(List<List<RoundMetrics>> runs, Function<RoundMetrics, Double> y) {
    Map<Integer, double[]> sums = new TreeMap<>(); // round -> {n, sum, sum of squares}
    for (List<RoundMetrics> run : runs) {
      for (RoundMetrics row : run) {
        Double value = y.apply(row);
        if (value != null && Double.isFinite(value)) {
          double[] s = sums.computeIfAbsent(row.round(), r -> new double[3]);
          s[0]++;
          s[1] += value;
          s[2] += value * value;
        }
      }
    }
    int n = sums.size();
    double[] rounds = new double[n];
    double[] means = new double[n];
    double[] deviations = new double[n];
    int i = 0;
    for (Map.Entry<Integer, double[]> entry : sums.entrySet()) {
      double[] s = entry.getValue();
      rounds[i] = entry.getKey();
      means[i] = s[1] / s[0];
      // Population deviation; max(0, …) absorbs rounding when every run has the same value.
      deviations[i] = Math.sqrt(Math.max(0, s[2] / s[0] - means[i] * means[i]));
      i++;
    }
    return new Band(rounds, means, deviations);
  }
}

package dev.ncalign.demo;

import dev.ncalign.demo.LabeledReviews.Example;
import dev.ncalign.demo.LabeledReviews.Kind;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How well rewards order labelled examples: over every pair of examples whose kinds have different
 * ranks (positive &gt; mixed &gt; negative &gt; degenerate), the fraction where the higher-ranked
 * one got the strictly higher reward.
 *
 * @param pairwiseAccuracy over all such pairs
 * @param accuracyByKindPair the same per ordered pair of kinds, keyed "POSITIVE>SHUFFLED"
 * @param meanReward mean reward per kind
 */
public record RankingReport(
    double pairwiseAccuracy, Map<String, Double> accuracyByKindPair, Map<Kind, Double> meanReward) {

  /** Scores {@code rewards[i]} belong to {@code examples.get(i)}. */
  public static RankingReport of(List<Example> examples, float[] rewards) {
    Map<Kind, List<Float>> byKind = new EnumMap<>(Kind.class);
    for (int i = 0; i < examples.size(); i++) {
      byKind.computeIfAbsent(examples.get(i).kind(), k -> new ArrayList<>()).add(rewards[i]);
    }
    Map<String, Double> byPair = new LinkedHashMap<>();
    long correct = 0;
    long total = 0;
    for (Map.Entry<Kind, List<Float>> high : byKind.entrySet()) {
      for (Map.Entry<Kind, List<Float>> low : byKind.entrySet()) {
        if (high.getKey().rank() <= low.getKey().rank()) {
          continue;
        }
        long pairCorrect = 0;
        for (float h : high.getValue()) {
          for (float l : low.getValue()) {
            pairCorrect += h > l ? 1 : 0;
          }
        }
        long pairs = (long) high.getValue().size() * low.getValue().size();
        byPair.put(high.getKey() + ">" + low.getKey(), (double) pairCorrect / pairs);
        correct += pairCorrect;
        total += pairs;
      }
    }
    Map<Kind, Double> means = new EnumMap<>(Kind.class);
    byKind.forEach(
        (kind, values) ->
            means.put(
                kind, values.stream().mapToDouble(Float::doubleValue).average().orElseThrow()));
    return new RankingReport(total == 0 ? Double.NaN : (double) correct / total, byPair, means);
  }

  /** The lowest accuracy over kind pairs, with its key. */
  public Map.Entry<String, Double> worstKindPair() {
    return accuracyByKindPair.entrySet().stream().min(Map.Entry.comparingByValue()).orElseThrow();
  }

  /** A few human-readable lines. */
  public String summary() {
    StringBuilder out =
        new StringBuilder(
            String.format(Locale.ROOT, "pairwise ranking accuracy %.4f%n", pairwiseAccuracy));
    Map.Entry<String, Double> worst = worstKindPair();
    out.append(
        String.format(Locale.ROOT, "worst kind pair %s %.4f%n", worst.getKey(), worst.getValue()));
    meanReward.forEach(
        (kind, mean) ->
            out.append(String.format(Locale.ROOT, "mean reward %-13s %7.3f%n", kind, mean)));
    return out.toString();
  }
}

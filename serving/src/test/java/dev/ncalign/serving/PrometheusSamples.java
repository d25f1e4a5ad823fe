package dev.ncalign.serving;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A parsed Prometheus text scrape: look a series up by name and some labels, in any order. */
public final class PrometheusSamples {

  private static final Pattern SAMPLE =
      Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})? (\\S+)");
  private static final Pattern LABEL = Pattern.compile("(\\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  private record Sample(String name, Map<String, String> labels, double value) {}

  private final List<Sample> samples;

  /** Parses {@code scrape}; comment and blank lines are skipped. */
  public PrometheusSamples(String scrape) {
    samples =
        scrape
            .lines()
            .filter(line -> !line.isBlank() && !line.startsWith("#"))
            .map(
                line -> {
                  Matcher sample = SAMPLE.matcher(line);
                  if (!sample.matches()) {
                    throw new IllegalArgumentException("not a sample line: " + line);
                  }
                  Map<String, String> labels = new HashMap<>();
                  Matcher label = LABEL.matcher(sample.group(2) == null ? "" : sample.group(2));
                  while (label.find()) {
                    labels.put(label.group(1), label.group(2));
                  }
                  return new Sample(sample.group(1), labels, Double.parseDouble(sample.group(3)));
                })
            .toList();
  }

  /**
   * The value of the one series named {@code name} carrying {@code labels} (name, value, ...).
   *
   * @throws AssertionError unless exactly one series matches
   */
  public double value(String name, String... labels) {
    List<Sample> matching =
        samples.stream().filter(s -> s.name.equals(name) && carries(s, labels)).toList();
    if (matching.size() != 1) {
      throw new AssertionError(
          matching.size() + " series match " + name + " " + Arrays.toString(labels));
    }
    return matching.get(0).value;
  }

  /** Whether any series is named {@code name}. */
  public boolean has(String name) {
    return samples.stream().anyMatch(s -> s.name.equals(name));
  }

  private static boolean carries(Sample sample, String[] labels) {
    for (int i = 0; i < labels.length; i += 2) {
      if (!labels[i + 1].equals(sample.labels.get(labels[i]))) {
        return false;
      }
    }
    return true;
  }
}

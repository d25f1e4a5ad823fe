package dev.ncalign.policy.metrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The samples of a Prometheus text-format scrape, for asserting on series by name and labels
 * without depending on label order or number formatting.
 */
public final class PrometheusSamples {

  private static final Pattern SAMPLE =
      Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})? (\\S+)");
  private static final Pattern LABEL =
      Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  private record Sample(String name, Map<String, String> labels, double value) {}

  private final List<Sample> samples = new ArrayList<>();

  public PrometheusSamples(String scrape) {
    for (String line : scrape.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      Matcher m = SAMPLE.matcher(line);
      if (!m.matches()) {
        throw new IllegalArgumentException("not a sample line: " + line);
      }
      Map<String, String> labels = new LinkedHashMap<>();
      if (m.group(2) != null) {
        Matcher label = LABEL.matcher(m.group(2));
        while (label.find()) {
          labels.put(label.group(1), label.group(2));
        }
      }
      samples.add(new Sample(m.group(1), labels, Double.parseDouble(m.group(3))));
    }
  }

  /**
   * The value of the one series named {@code name} whose labels include {@code labels} (name,
   * value, ...).
   *
   * @throws AssertionError if no series or several match
   */
  public double value(String name, String... labels) {
    List<Sample> matching =
        samples.stream().filter(s -> s.name.equals(name) && hasLabels(s, labels)).toList();
    if (matching.size() != 1) {
      throw new AssertionError(
          matching.size() + " series match " + name + " " + List.of(labels) + " in " + samples);
    }
    return matching.get(0).value;
  }

  /** Whether any series is named {@code name}. */
  public boolean has(String name) {
    return samples.stream().anyMatch(s -> s.name.equals(name));
  }

  private static boolean hasLabels(Sample sample, String[] labels) {
    for (int i = 0; i < labels.length; i += 2) {
      if (!labels[i + 1].equals(sample.labels.get(labels[i]))) {
        return false;
      }
    }
    return true;
  }
}

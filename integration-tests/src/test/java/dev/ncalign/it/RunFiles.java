package dev.ncalign.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What "the same run" means for two run directories: the files a run writes, byte for byte. */
final class RunFiles {
  /** The only keys of a metrics row that may differ between identical runs: wall-clock timings. */
  private static final List<String> TIMING_KEYS =
      List.of(
          "generate_seconds",
          "score_seconds",
          "learn_seconds",
          "reference_seconds",
          "push_seconds",
          "tokens_per_second",
          "learner_wait_seconds",
          "sampler_wait_seconds",
          "eval_seconds",
          "round_seconds");

  private static final ObjectMapper JSON = new ObjectMapper();

  private RunFiles() {}

  /**
   * Asserts identical {@code samples.jsonl} and identical {@code metrics.jsonl} apart from the
   * timing keys, with {@code rounds} rows.
   */
  static void assertSameRun(Path expected, Path actual, int rounds) {
    try {
      assertEquals(
          Files.readString(expected.resolve("samples.jsonl")),
          Files.readString(actual.resolve("samples.jsonl")),
          "samples.jsonl of " + actual);
      List<String> rows = withoutTimings(expected.resolve("metrics.jsonl"));
      assertEquals(rounds, rows.size(), "metrics rows of " + expected);
      assertEquals(
          rows,
          withoutTimings(actual.resolve("metrics.jsonl")),
          "metrics.jsonl of " + actual + " without timing keys");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<String> withoutTimings(Path metrics) throws IOException {
    List<String> rows = new ArrayList<>();
    for (String line : Files.readAllLines(metrics)) {
      ObjectNode row = (ObjectNode) JSON.readTree(line);
      row.remove(TIMING_KEYS);
      rows.add(row.toString());
    }
    return rows;
  }
}

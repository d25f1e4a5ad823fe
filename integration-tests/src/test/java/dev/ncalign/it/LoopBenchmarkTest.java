package dev.ncalign.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ncalign.bench.LoopBenchmark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ncalign bench loop} on the test models: short runs (overhead, two synchronous/pipelined
 * pairs) and what it reports of them.
 */
class LoopBenchmarkTest {
  @TempDir Path tmp;

  @Test
  void measuresOverheadAndStalenessOnTheDemoConfig() throws Exception {
    Path assets = TestAssets.asDemoAssets(tmp);
    Path out = tmp.resolve("bench");
    List<String> progress = new ArrayList<>();

    LoopBenchmark.run(
        new LoopBenchmark.Options(Path.of("..", "configs", "demo.yaml"), assets, out, 2, 2),
        progress::add);

    JsonNode report = new ObjectMapper().readTree(out.resolve("loop.json").toFile());
    double overhead = report.get("overhead_share").asDouble();
    assertTrue(overhead >= 0 && overhead < 1, "overhead share " + overhead);
    JsonNode pairs = report.get("pair_ratios");
    assertEquals(2, pairs.size(), "one ratio per pair");
    assertEquals(
        (pairs.get(0).asDouble() + pairs.get(1).asDouble()) / 2,
        report.get("staleness_1_wall_ratio").asDouble(),
        1e-12,
        "the median of two pairs");
    List<String> names = new ArrayList<>();
    for (JsonNode run : report.get("runs")) {
      names.add(run.get("name").asText());
      assertTrue(
          run.get("wall_seconds").asDouble() > run.get("learn_seconds").asDouble(), "" + run);
      assertEquals(
          run.get("max_staleness").asInt(), run.get("max_staleness_seen").asInt(), "" + run);
    }
    assertEquals(List.of("overhead", "staleness-0", "staleness-1"), names);
    assertTrue(report.get("runs").get(2).has("last_eval_reward"), "the pipelined run evaluates");
    assertTrue(Files.size(out.resolve("loop-eval-reward.png")) > 0);
    assertTrue(Files.readString(out.resolve("loop.md")).contains("| staleness-1 | 1 |"));
    assertTrue(progress.stream().anyMatch(line -> line.contains("max_staleness 1")), "" + progress);
  }
}

package dev.ncalign.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tiny run of the benchmark: the files and fields are there and sane (no timing targets). */
class RewardBatchingBenchmarkTest {

  @Test
  void tinyRunWritesEveryFileWithSaneFields(@TempDir Path out) throws Exception {
    List<String> progress = new ArrayList<>();
    // target/ is shared with EmbeddedRewardModelTest, which builds the same model (seed 7).
    RewardBatchingBenchmark.run(
        new RewardBatchingBenchmark.Options(
            out, Path.of("target"), List.of(1, 2), 0.1, 0.3, 1, true),
        progress::add);

    JsonNode report = new ObjectMapper().readTree(out.resolve("reward-batching.json").toFile());
    assertEquals(2, report.get("models").size());
    assertEquals(1, report.get("arms").get("one_by_one").get("max_batch_size").asInt());
    for (JsonNode model : report.get("models")) {
      String name = model.get("name").asText();
      assertEquals(List.of(1, 2), callers(model), name);
      for (JsonNode point : model.get("points")) {
        String where = name + " at " + point.get("callers") + " callers";
        for (String arm : List.of("one_by_one", "batched", "batched_no_wait")) {
          JsonNode a = point.get(arm);
          assertEquals(1, a.get("repetitions").size(), where);
          assertTrue(a.get("items_per_second").asDouble() > 0, where + " " + arm);
          assertTrue(a.get("items_per_cpu_second").asDouble() > 0, where + " " + arm);
          assertTrue(
              a.get("items_per_second_best").asDouble() >= a.get("items_per_second").asDouble(),
              where + " " + arm);
          assertTrue(a.get("model_busy").asDouble() > 0, where + " " + arm);
          assertTrue(a.get("model_busy").asDouble() <= 1.05, where + " " + arm);
          double batch = a.get("mean_batch").asDouble();
          assertTrue(batch >= 1 && batch <= point.get("callers").asInt(), where + " " + batch);
        }
        // With --max-batch-size 1 every model run holds exactly one item.
        assertEquals(1.0, point.get("one_by_one").get("mean_batch").asDouble(), where);
        double oneByOne = point.get("one_by_one").get("items_per_second").asDouble();
        assertEquals(
            point.get("batched").get("items_per_second").asDouble() / oneByOne,
            point.get("ratio").asDouble(),
            1e-9,
            where);
        assertEquals(
            point.get("batched_no_wait").get("items_per_second").asDouble() / oneByOne,
            point.get("ratio_no_wait").asDouble(),
            1e-9,
            where);
        assertEquals(
            point.get("batched").get("items_per_second_best").asDouble()
                / point.get("one_by_one").get("items_per_second_best").asDouble(),
            point.get("ratio_best").asDouble(),
            1e-9,
            where);
        JsonNode bound = point.get("model_free_bound");
        assertTrue(bound.isNull() || bound.asDouble() >= 1, where + " bound " + bound);
      }
      String svg = Files.readString(out.resolve("reward-batching-" + name + ".svg"));
      assertTrue(svg.startsWith("<svg") && svg.contains("batched-no-wait"), svg);
    }
    assertTrue(
        Files.readString(out.resolve("reward-batching-ratio.svg")).contains("decoder no wait"));
    String md = Files.readString(out.resolve("reward-batching.md"));
    assertTrue(md.contains("| embedded | 2 |") && md.contains("| decoder | 1 |"), md);
    // One line for the embedded model, then one per model, caller count and arm.
    assertEquals(1 + 2 * 2 * 3, progress.size(), String.join("\n", progress));
  }

  private static List<Integer> callers(JsonNode model) {
    List<Integer> callers = new ArrayList<>();
    model.get("points").forEach(p -> callers.add(p.get("callers").asInt()));
    return callers;
  }
}

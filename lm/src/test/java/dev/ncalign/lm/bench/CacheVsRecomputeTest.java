package dev.ncalign.lm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ncalign.lm.sampling.FinishReason;
import dev.ncalign.lm.sampling.SampledSequence;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The KV-cache benchmark on the demo-size model, its report files, and its timing rule. */
class CacheVsRecomputeTest {

  @TempDir Path out;

  @Test
  void demoModelProducesTheSameTokensBothWaysAndWritesEveryReportFile() throws Exception {
    List<String> progress = new ArrayList<>();
    CacheVsRecompute.run(out, List.of(1, 3), List.of(CacheVsRecompute.DEMO), progress::add);
    JsonNode report = new ObjectMapper().readTree(out.resolve("kv-vs-recompute.json").toFile());
    assertEquals(24, report.get("new_tokens").asInt());
    JsonNode demo = report.get("models").get(0);
    assertEquals("demo", demo.get("model").asText());
    assertEquals(118_336, demo.get("parameters").asLong());
    JsonNode rows = demo.get("batches");
    assertEquals(2, rows.size());
    for (JsonNode row : rows) {
      assertTrue(row.get("same_tokens").asBoolean(), row.toString());
      assertTrue(row.get("kv_cache_tokens_per_second").asDouble() > 0, row.toString());
      assertTrue(row.get("recompute_tokens_per_cpu_second").asDouble() > 0, row.toString());
      assertEquals(
          row.get("kv_cache_tokens_per_second").asDouble()
              / row.get("recompute_tokens_per_second").asDouble(),
          row.get("speedup").asDouble(),
          1e-9);
    }
    assertEquals(3, rows.get(1).get("batch").asInt());
    assertEquals(2, progress.size());
    String markdown = Files.readString(out.resolve("kv-vs-recompute.md"));
    assertTrue(markdown.contains("**demo**"), markdown);
    assertTrue(markdown.contains("\n| 3 | "), markdown);
    for (String svg : List.of("kv-vs-recompute.svg", "kv-vs-recompute-demo.svg")) {
      assertTrue(Files.readString(out.resolve(svg)).startsWith("<svg"), svg);
    }
  }

  @Test
  void rejectsEmptyOrNonPositiveBatchSizes() {
    List<CacheVsRecompute.BenchModel> demo = List.of(CacheVsRecompute.DEMO);
    assertThrows(
        IllegalArgumentException.class, () -> CacheVsRecompute.run(out, List.of(), demo, s -> {}));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> CacheVsRecompute.run(out, List.of(4, 0), demo, s -> {}));
    assertTrue(e.getMessage().contains("got 0"), e.getMessage());
    assertFalse(Files.exists(out.resolve("kv-vs-recompute.json")));
  }

  @Test
  void aCachedRowThatStoppedAtEosStillMatchesItsRecomputedPrefix() {
    int[][] recomputed = {{5, 6, 7, 8}, {9, 10, 11, 12}};
    assertTrue(
        CacheVsRecompute.samePrefixes(List.of(row(0, 5, 6, 7, 8), row(1, 9, 10)), recomputed));
    assertFalse(
        CacheVsRecompute.samePrefixes(List.of(row(0, 5, 6, 7, 8), row(1, 9, 11)), recomputed));
  }

  @Test
  void markdownShowsEveryPointAndFlagsDifferentTokens() throws Exception {
    JsonNode report =
        new ObjectMapper()
            .readTree(
                """
                {"date": "2026-12-02T08:00:00Z", "new_tokens": 24, "prompt_tokens": 9,
                 "libtorch_threads": "1", "max_runs": 20, "run_budget_seconds": 2.0,
                 "load_average_before": "0.5 0.6 0.7",
                 "load_average_after": "0.8 0.9 1.0",
                 "models": [{"model": "demo", "description": "tiny", "parameters": 118336,
                   "batches": [{"batch": 64, "kv_cache_tokens_per_second": 28619.4,
                     "recompute_tokens_per_second": 7735.0, "speedup": 3.7,
                     "kv_cache_tokens_per_cpu_second": 30000, "recompute_tokens_per_cpu_second": 6000,
                     "cpu_speedup": 5.0, "same_tokens": false}]}]}
                """);
    String markdown = CacheVsRecomputeReport.markdown(report);
    assertTrue(
        markdown.contains("| 64 | 28,619 | 7,735 | 3.70 × | 30,000 | 6,000 | 5.00 × | **no** |"),
        markdown);
    assertTrue(markdown.contains("0.5 0.6 0.7 before, 0.8 0.9 1.0 after"), markdown);
    assertTrue(markdown.contains("best of up to 20 runs per point (no more once"), markdown);
    assertTrue(markdown.contains("118,336 parameters"), markdown);
  }

  private static SampledSequence row(int prompt, int... ids) {
    return new SampledSequence(prompt, 0, "", ids, new float[ids.length], 0, FinishReason.LENGTH);
  }
}

package dev.ncalign.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ncalign.lm.model.TinyModelSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tiny run of the hot-swap benchmark: one small model, a few concurrent calls. */
class SwapBenchmarkTest {

  @TempDir Path temp;

  @Test
  void writesSaneResults() throws Exception {
    Path out = temp.resolve("out");
    List<String> progress = new ArrayList<>();
    SwapBenchmark.run(
        new SwapBenchmark.Options(
            out,
            temp.resolve("models"),
            List.of(new TinyModelSpec(32, 2, 4, 2, 64, 64)),
            4,
            2,
            4096,
            4),
        progress::add);

    JsonNode report = new ObjectMapper().readTree(out.resolve("swap.json").toFile());
    assertEquals(4, report.get("concurrent_generate_calls").asInt());
    assertEquals(1, report.get("runs").size());
    JsonNode run = report.get("runs").get(0);
    long bytes = run.get("weight_bytes").asLong();
    assertTrue(bytes > 10_000, "weight bytes " + bytes);
    assertTrue(run.get("loopback_copy_seconds").asDouble() > 0);
    for (String condition : List.of("idle", "under_load")) {
      JsonNode c = run.get(condition);
      assertEquals(2, c.get("push_seconds").size(), condition);
      for (int i = 0; i < 2; i++) {
        double push = c.get("push_seconds").get(i).asDouble();
        double load = c.get("server_load_seconds").get(i).asDouble();
        // The server's share is inside the client's time.
        assertTrue(load > 0 && load <= push, condition + ": load " + load + ", push " + push);
      }
    }
    double ratio = run.get("load_to_idle_ratio").asDouble();
    assertEquals(
        run.at("/under_load/push_seconds_median").asDouble()
            / run.at("/idle/push_seconds_median").asDouble(),
        ratio,
        1e-9);
    assertEquals(ratio <= 2, run.get("meets_target").asBoolean());
    // One warm-up and two timed pushes idle, two under load: versions 2 to 6, and Generate calls
    // started after the last swap saw it.
    assertEquals(6, run.get("last_pushed_version").asLong());
    assertEquals(6, run.get("newest_version_seen_by_generate").asLong());
    assertEquals(0, run.get("generate_calls_failed").asInt(), run.toString());

    String md = Files.readString(out.resolve("swap.md"));
    assertTrue(md.contains("| " + run.get("model").asText() + " |"), md);
    String svg = Files.readString(out.resolve("swap.svg"));
    assertTrue(svg.startsWith("<svg") && svg.contains("<polyline"), svg);
    assertEquals(1, progress.stream().filter(line -> line.contains("idle push")).count());
  }
}

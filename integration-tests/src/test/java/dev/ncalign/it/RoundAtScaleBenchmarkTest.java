package dev.ncalign.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ncalign.bench.RoundAtScaleBenchmark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ncalign bench rounds} with the test policy in place of the 0.5B-shaped one: both runs
 * finish in their own JVM, and the report has each process's memory and each round's figures.
 */
class RoundAtScaleBenchmarkTest {
  @TempDir Path tmp;

  @Test
  void reportsRoundsAndTheMemoryOfEveryProcessForFullAndLora() throws Exception {
    Path assets = TestAssets.asDemoAssets(tmp);
    Path out = tmp.resolve("bench");
    List<String> progress = new ArrayList<>();

    RoundAtScaleBenchmark.run(
        new RoundAtScaleBenchmark.Options(TestAssets.policy(), assets, out, "1g"), progress::add);

    JsonNode report = new ObjectMapper().readTree(out.resolve("round-0.5b.json").toFile());
    List<String> names = new ArrayList<>();
    long[] pushBytes = new long[2];
    for (JsonNode run : report.get("runs")) {
      names.add(run.get("name").asText());
      assertEquals(2, run.get("rounds").size(), "" + run);
      for (String role : List.of("learner", "policy", "reward")) {
        double mib = run.path("peak_rss_" + role + "_mib").asDouble();
        assertTrue(
            mib > 20 && mib < run.get("peak_rss_all_processes_mib").asDouble(), role + " " + run);
      }
      JsonNode round = run.get("rounds").get(1);
      assertTrue(round.get("round_seconds").asDouble() >= round.get("learn_seconds").asDouble());
      pushBytes[names.size() - 1] = round.get("push_bytes").asLong();
    }
    assertEquals(List.of("full", "lora-r8"), names);
    assertTrue(pushBytes[1] < pushBytes[0], "an adapter push is smaller than the weights");
    assertTrue(Files.readString(out.resolve("round-0.5b.md")).contains("| lora-r8 | 2 |"));
  }
}

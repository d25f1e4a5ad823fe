package dev.ncalign.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ncalign.cli.Ncalign;
import dev.ncalign.orchestrator.config.Mode;
import dev.ncalign.orchestrator.store.RoundMetrics;
import dev.ncalign.orchestrator.store.RunStore;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code ncalign collect} then {@code ncalign train} offline, and config errors, through the real
 * CLI.
 */
class OfflineAndConfigTest {
  @TempDir Path tmp;

  private record Result(int exit, String out, String err) {}

  private static Result ncalign(String... args) {
    StringWriter err = new StringWriter();
    CommandLine cli = Ncalign.commandLine();
    cli.setErr(new PrintWriter(err, true));
    int exit = cli.execute(args);
    return new Result(exit, "", err.toString());
  }

  private Path writeConfig(String name, String yaml) throws Exception {
    Path file = tmp.resolve(name);
    Files.writeString(file, yaml);
    return file;
  }

  @Test
  void collectsADatasetThenTrainsOfflineOnIt() throws Exception {
    Path dataset = tmp.resolve("data/dataset.jsonl");
    Files.createDirectories(dataset.getParent());
    Path collect =
        writeConfig("collect.yaml", TestAssets.config(tmp.resolve("collect"), "online", 2, ""));
    assertEquals(
        0, ncalign("collect", "--config", collect.toString(), "--out", dataset.toString()).exit());
    List<String> rows = Files.readAllLines(dataset);
    assertEquals(8, rows.size(), "rounds x prompts_per_round prompts");
    assertTrue(
        rows.get(0).contains("\"responses\"") && rows.get(0).contains("\"reward\""), rows.get(0));
    // The sampler's record is kept: ids, finish reason, version and per-token log-probs.
    for (String key : List.of("token_ids", "finish_reason", "sampled_version", "token_logprobs")) {
      assertTrue(rows.get(0).contains("\"" + key + "\""), key + " in " + rows.get(0));
    }

    Path runDir = tmp.resolve("offline");
    Path offline =
        writeConfig(
            "offline.yaml",
            TestAssets.config(runDir, "offline", 3, "offline: {dataset: " + dataset + "}"));
    assertEquals(0, ncalign("train", "--config", offline.toString()).exit());
    List<RoundMetrics> metrics = RunStore.open(runDir).metrics();
    assertEquals(3, metrics.size());
    for (RoundMetrics m : metrics) {
      assertEquals(Mode.OFFLINE, m.mode());
      assertTrue(Double.isFinite(m.loss()), m.toString());
      assertEquals(null, m.sampledVersion(), "offline rounds train on data, not on samples");
    }
    assertNotNull(metrics.get(1).evalReward(), "evaluated at round 2");
    assertNotNull(metrics.get(2).evalReward(), "evaluated after the last round");
    assertTrue(Files.size(runDir.resolve("metrics.png")) > 1000, "the run's plot is written");
  }

  @Test
  void configErrorsFailFastNamingTheField() throws Exception {
    Path runDir = tmp.resolve("never");
    String good = TestAssets.config(runDir, "online", 1, "");

    Result range =
        ncalign(
            "train", "--config", writeConfig("a.yaml", good).toString(), "--set", "loss.beta=-1");
    assertEquals(2, range.exit());
    assertTrue(range.err().contains("loss.beta"), range.err());

    Result unknown =
        ncalign(
            "train",
            "--config",
            writeConfig("b.yaml", good.replace("sampling: {", "sampling: {kk: 3, ")).toString());
    assertEquals(2, unknown.exit());
    assertTrue(unknown.err().contains("sampling.kk"), unknown.err());

    Result missing =
        ncalign(
            "train",
            "--config",
            writeConfig("c.yaml", good).toString(),
            "--set",
            "policy.model=" + tmp.resolve("nowhere"));
    assertEquals(2, missing.exit());
    assertTrue(missing.err().contains("policy.model"), missing.err());

    assertEquals(
        1, missing.err().strip().lines().count(), "one line, no stack trace: " + missing.err());
    assertFalse(Files.exists(runDir), "nothing started");
  }
}

package dev.ncalign.orchestrator.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ncalign.orchestrator.config.ConfigLoader;
import dev.ncalign.orchestrator.config.Mode;
import dev.ncalign.orchestrator.config.RunConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunStoreTest {

  @TempDir Path dir;

  static RoundMetrics row(int round) {
    return new RoundMetrics(
        round,
        Mode.ONLINE,
        round,
        4L * round,
        0.5 + round,
        -1,
        2,
        0.7,
        -20,
        -19,
        -25,
        -27,
        0.01,
        12.5,
        0.8,
        round % 2,
        1.5,
        0.2,
        3.0,
        0.4,
        250,
        round == 2 ? 1.25 : null);
  }

  static List<SampleRecord> samplesOf(int round) {
    return IntStream.range(0, 3)
        .mapToObj(
            i -> new SampleRecord(round, round, "prompt " + i, "response \"" + i + "\"\n", i - 1.0))
        .toList();
  }

  @Test
  void metricsAndSamplesRoundTrip() {
    RunStore store = RunStore.open(dir.resolve("run"));
    RoundMetrics nan =
        new RoundMetrics(
            3,
            Mode.OFFLINE,
            3,
            12,
            Double.NaN,
            Double.NEGATIVE_INFINITY,
            1,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            null);
    store.appendMetrics(row(1));
    store.appendMetrics(row(2));
    store.appendMetrics(nan);
    store.appendSamples(samplesOf(1));
    store.appendSamples(List.of());

    assertEquals(List.of(row(1), row(2), nan), store.metrics());
    assertEquals(samplesOf(1), store.samples());
    // A fresh store on the same directory reads the same rows: nothing lived only in memory.
    assertEquals(List.of(row(1), row(2), nan), RunStore.open(dir.resolve("run")).metrics());
  }

  @Test
  void metricsUseSnakeCaseKeysOneRowPerLine() throws IOException {
    RunStore store = RunStore.open(dir);
    store.appendMetrics(row(2));
    store.appendMetrics(row(3));
    List<String> lines = Files.readAllLines(dir.resolve("metrics.jsonl"));
    assertEquals(2, lines.size());
    assertTrue(
        lines.get(0).startsWith("{\"round\":2,\"mode\":\"online\",\"policy_version\":2,"),
        lines.get(0));
    assertTrue(lines.get(0).contains("\"best_logp_before\":-20.0"), lines.get(0));
    assertTrue(lines.get(0).contains("\"eval_reward\":1.25"), lines.get(0));
    assertTrue(lines.get(1).contains("\"eval_reward\":null"), lines.get(1));
  }

  @Test
  void resumeAfterACrashMidRoundDropsTheUnfinishedRound() throws IOException {
    RunStore store = RunStore.open(dir);
    for (int round = 1; round <= 2; round++) {
      store.appendMetrics(row(round));
      store.appendSamples(samplesOf(round));
      Files.writeString(
          store.checkpointDir(round).resolve("model.safetensors"), "weights " + round);
      store.markCheckpoint(round, round + 1, 8L * round, "rng-" + round);
    }
    // Round 3 got its rows and half a checkpoint, then the process died mid-write of another row.
    store.appendMetrics(row(3));
    store.appendSamples(samplesOf(3));
    Files.writeString(store.checkpointDir(3).resolve("model.safetensors"), "half");
    Files.writeString(dir.resolve("metrics.jsonl"), "{\"round\":4,\"mo", StandardOpenOption.APPEND);

    RunStore reopened = RunStore.open(dir);
    Optional<RunState> state = reopened.resume();

    assertEquals(Optional.of(new RunState(2, 3, 16, "checkpoints/round-0002", "rng-2")), state);
    assertEquals(
        "weights 2",
        Files.readString(reopened.checkpointPath(state.get()).resolve("model.safetensors")));
    assertEquals(List.of(row(1), row(2)), reopened.metrics());
    assertEquals(
        List.of(samplesOf(1), samplesOf(2)).stream().flatMap(List::stream).toList(),
        reopened.samples());
    assertFalse(Files.exists(dir.resolve("checkpoints/round-0003")));

    // The resumed run appends round 3 again; it follows round 2 with nothing repeated.
    reopened.appendMetrics(row(3));
    assertEquals(List.of(1, 2, 3), reopened.metrics().stream().map(RoundMetrics::round).toList());
  }

  @Test
  void resumeWithoutACompletedRoundStartsClean() {
    RunStore store = RunStore.open(dir);
    store.appendMetrics(row(1));
    store.appendSamples(samplesOf(1));
    store.checkpointDir(1);

    assertEquals(Optional.empty(), store.resume());
    assertEquals(List.of(), store.metrics());
    assertEquals(List.of(), store.samples());
    assertFalse(Files.exists(dir.resolve("checkpoints/round-0001")));
  }

  @Test
  void resumeOfAnEmptyDirectoryFindsNothing() {
    assertEquals(Optional.empty(), RunStore.open(dir.resolve("new")).resume());
  }

  @Test
  void markingARoundWithoutItsCheckpointFails() {
    RunStore store = RunStore.open(dir);
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> store.markCheckpoint(7, 8, 9, ""));
    assertTrue(e.getMessage().contains("round-0007"), e.getMessage());
  }

  @Test
  void damageBeforeTheLastLineIsReported() throws IOException {
    RunStore store = RunStore.open(dir);
    store.appendMetrics(row(1));
    Files.writeString(dir.resolve("metrics.jsonl"), "garbage\n", StandardOpenOption.APPEND);
    store.appendMetrics(row(2));
    IllegalStateException e = assertThrows(IllegalStateException.class, store::metrics);
    assertTrue(e.getMessage().contains("line 2"), e.getMessage());
  }

  @Test
  void configCopyLoadsBack() {
    RunStore store = RunStore.open(dir);
    RunConfig config =
        ConfigLoader.parse("run: {dir: elsewhere, rounds: 3}\nloss: {type: DPO}\n", List.of());
    store.writeConfig(config);
    assertEquals(config, ConfigLoader.load(store.configFile(), List.of()));
  }
}

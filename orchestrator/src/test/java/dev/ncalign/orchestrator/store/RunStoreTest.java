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
    return RoundMetrics.builder()
        .round(round)
        .mode(Mode.ONLINE)
        .sampledVersion((long) round)
        .liveVersion(round + 1L)
        .step(4L * round)
        .meanReward(0.5 + round)
        .minReward(-1)
        .maxReward(2)
        .loss(0.7)
        .bestLogpBefore(-20)
        .bestLogpAfter(-19)
        .worstLogpBefore(-25)
        .worstLogpAfter(-27)
        .kl(0.01)
        .meanLength(12.5)
        .distinct2(0.8)
        .dropped(round % 2)
        .optimizerSteps(4)
        .gradNorm(0.75 * round)
        .generateSeconds(1.5)
        .scoreSeconds(0.2)
        .learnSeconds(3.0)
        .pushSeconds(0.4)
        .pushBytes(468_000L * round)
        .tokensPerSecond(250)
        .evalReward(round == 2 ? 1.25 : null)
        .build();
  }

  static List<SampleRecord> samplesOf(int round) {
    return IntStream.range(0, 3)
        .mapToObj(
            i ->
                new SampleRecord(
                    round, (long) round, "prompt " + i, "response \"" + i + "\"\n", i - 1.0))
        .toList();
  }

  @Test
  void metricsAndSamplesRoundTrip() {
    RunStore store = RunStore.open(dir.resolve("run"));
    RoundMetrics nan =
        RoundMetrics.builder()
            .round(3)
            .mode(Mode.OFFLINE)
            .liveVersion(4)
            .step(12)
            .meanReward(Double.NaN)
            .minReward(Double.NEGATIVE_INFINITY)
            .maxReward(1)
            .kl(0) // every field not set is 0 (null for eval_reward)
            .build();
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
        lines
            .get(0)
            .startsWith(
                "{\"round\":2,\"mode\":\"online\",\"sampled_version\":2,\"live_version\":3,"),
        lines.get(0));
    assertTrue(lines.get(0).contains("\"push_bytes\":936000,"), lines.get(0));
    assertTrue(lines.get(0).contains("\"optimizer_steps\":4,\"grad_norm\":1.5,"), lines.get(0));
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
      store.markCheckpoint(round, round + 1, 8L * round);
    }
    // Round 3 got its rows and half a checkpoint, then the process died mid-write of another row.
    store.appendMetrics(row(3));
    store.appendSamples(samplesOf(3));
    Files.writeString(store.checkpointDir(3).resolve("model.safetensors"), "half");
    Files.writeString(dir.resolve("metrics.jsonl"), "{\"round\":4,\"mo", StandardOpenOption.APPEND);

    RunStore reopened = RunStore.open(dir);
    Optional<RunState> state = reopened.resume();

    assertEquals(Optional.of(new RunState(2, 3, 16, "checkpoints/round-0002")), state);
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
  void rowsWrittenBeforeTheVersionSplitStillRead() throws IOException {
    // A metrics row, a sample and a state file as the previous release wrote them.
    Files.writeString(
        dir.resolve("metrics.jsonl"),
        "{\"round\":1,\"mode\":\"online\",\"policy_version\":1,\"step\":4,\"mean_reward\":0.5}\n"
            + "{\"round\":2,\"mode\":\"offline\",\"policy_version\":2,\"step\":8,\"kl\":0.2}\n");
    Files.writeString(
        dir.resolve("samples.jsonl"),
        "{\"round\":1,\"policy_version\":1,\"prompt\":\"p\",\"response\":\"r\",\"reward\":0.5}\n");
    RunStore store = RunStore.open(dir);
    Files.writeString(store.checkpointDir(2).resolve("model.safetensors"), "weights");
    Files.writeString(
        dir.resolve("state.json"),
        "{\"last_completed_round\":2,\"policy_version\":3,\"step\":8,"
            + "\"checkpoint\":\"checkpoints/round-0002\",\"rng_state\":\"\"}");

    List<RoundMetrics> rows = store.metrics();
    // Online the old version was the one sampled from; either way the round then pushed one more.
    assertEquals(1L, rows.get(0).sampledVersion());
    assertEquals(2, rows.get(0).liveVersion());
    assertEquals(null, rows.get(1).sampledVersion(), "offline rows were not sampled");
    assertEquals(3, rows.get(1).liveVersion());
    assertEquals(1L, store.samples().get(0).sampledVersion());
    assertEquals(Optional.of(new RunState(2, 3, 8, "checkpoints/round-0002")), store.resume());
  }

  @Test
  void aRowWithNoVersionAtAllIsRejected() throws IOException {
    Files.writeString(dir.resolve("metrics.jsonl"), "{\"round\":1,\"mode\":\"online\"}\n");
    IllegalStateException e =
        assertThrows(IllegalStateException.class, RunStore.open(dir)::metrics);
    assertTrue(e.getMessage().contains("row 1"), e.getMessage());
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
        assertThrows(IllegalStateException.class, () -> store.markCheckpoint(7, 8, 9));
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

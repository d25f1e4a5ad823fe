package dev.ncalign.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ncalign.orchestrator.config.ConfigLoader;
import dev.ncalign.orchestrator.config.Mode;
import dev.ncalign.orchestrator.config.RunConfig;
import dev.ncalign.orchestrator.launch.ServerProcess;
import dev.ncalign.orchestrator.loop.AlignmentRun;
import dev.ncalign.orchestrator.loop.RoundListener;
import dev.ncalign.orchestrator.store.RoundMetrics;
import dev.ncalign.orchestrator.store.RunStore;
import dev.ncalign.orchestrator.store.SampleRecord;
import dev.ncalign.proto.v1.Completion;
import dev.ncalign.proto.v1.GenerateResponse;
import dev.ncalign.proto.v1.SamplingParams;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The online loop end to end: real policy and reward servers as child processes on loopback ports.
 */
class OnlineLoopTest {
  @TempDir Path tmp;

  private static RunConfig config(Path dir, int rounds) {
    return ConfigLoader.parse(TestAssets.config(dir, "online", rounds, ""), List.of());
  }

  @Test
  void threeRoundsSampleFromVersionsOneToThreeAndServeVersionFourAfter() {
    Path dir = tmp.resolve("run");
    List<Long> versions = new ArrayList<>();
    List<Double> serverBestLogps = new ArrayList<>();
    RoundListener record =
        (m, b) -> {
          versions.add(m.sampledVersion());
          serverBestLogps.add(
              b.prompts().stream()
                  .mapToDouble(p -> p.responses().get(p.best()).sample().sumLogprob())
                  .average()
                  .orElseThrow());
        };
    List<ServerProcess> servers;
    try (AlignmentRun run = AlignmentRun.open(config(dir, 3), false, List.of(record))) {
      servers = run.servers();
      assertEquals(2, servers.size(), "a policy and a reward server were started");
      run.run();
      assertEquals(
          List.of(1L, 2L, 3L), versions, "each round samples the version the previous one pushed");
      GenerateResponse after =
          run.policyClient()
              .generate(
                  List.of("review of the lamp :"),
                  2,
                  SamplingParams.newBuilder().setMaxNewTokens(4).setSeed(1).build());
      assertEquals(4, after.getPolicyVersion());
      for (Completion c : after.getCompletionsList()) {
        assertEquals(4, c.getPolicyVersion());
      }
    }
    servers.forEach(s -> assertFalse(s.isAlive(), s + " stopped with the run"));

    RunStore store = RunStore.open(dir);
    List<RoundMetrics> metrics = store.metrics();
    assertEquals(List.of(1, 2, 3), metrics.stream().map(RoundMetrics::round).toList());
    for (RoundMetrics m : metrics) {
      assertEquals(Mode.ONLINE, m.mode());
      assertEquals(m.sampledVersion() + 1, m.liveVersion(), "each round pushes one version");
      assertEquals(0L, m.staleness(), "the synchronous loop trains on the live version's samples");
      assertTrue(
          m.roundSeconds() >= m.learnSeconds() + m.pushSeconds()
              && m.learnerWaitSeconds() > 0
              && m.evalSeconds() > 0 == (m.evalReward() != null),
          m.toString());
      assertTrue(m.pushBytes() > 0 && m.optimizerSteps() > 0, m.toString());
      assertTrue(Double.isFinite(m.meanReward()) && Double.isFinite(m.loss()), m.toString());
      assertEquals(
          m.evalReward() != null, Double.isFinite(m.kl()), "KL is measured at evaluations");
      // The learner scored the server's token ids with the weights the server sampled them from:
      // its log-probs equal the server's, so both processes saw the same prompt and response ids.
      assertEquals(serverBestLogps.get(m.round() - 1), m.bestLogpBefore(), 1e-3, m.toString());
      assertTrue(
          m.meanLength() > 0 && m.generateSeconds() > 0 && m.learnSeconds() > 0, m.toString());
    }
    assertNotNull(metrics.get(2).evalReward(), "the last round evaluates on held-out prompts");
    List<SampleRecord> samples = store.samples();
    assertEquals(3 * 4 * 3, samples.size(), "rounds x prompts x K samples recorded");
    for (int i = 1; i < samples.size(); i++) {
      assertTrue(
          samples.get(i).sampledVersion() >= samples.get(i - 1).sampledVersion(),
          "versions in order");
    }
    assertTrue(Files.exists(dir.resolve("checkpoints/round-0003/model.safetensors")));
  }

  @Test
  void runKilledBetweenRoundsResumesLosingAndRepeatingNothing() {
    Path uninterrupted = tmp.resolve("whole");
    try (AlignmentRun run = AlignmentRun.open(config(uninterrupted, 3), false, List.of())) {
      run.run();
    }
    Path resumed = tmp.resolve("resumed");
    RoundListener killAfterRoundTwo =
        (m, b) -> {
          if (m.round() == 2) {
            throw new IllegalStateException("killed");
          }
        };
    try (AlignmentRun run =
        AlignmentRun.open(config(resumed, 3), false, List.of(killAfterRoundTwo))) {
      assertThrows(IllegalStateException.class, run::run);
    }
    assertThrows(
        IllegalStateException.class,
        () -> AlignmentRun.open(config(resumed, 3), false, List.of()),
        "a fresh run refuses a directory that holds one");
    try (AlignmentRun run = AlignmentRun.open(config(resumed, 3), true, List.of())) {
      assertEquals(3, run.firstRound());
      run.run();
    }
    assertEquals(
        List.of(1, 2, 3),
        RunStore.open(resumed).metrics().stream().map(RoundMetrics::round).toList(),
        "nothing lost, nothing repeated");
    RunFiles.assertSameRun(uninterrupted, resumed, 3);
  }
}

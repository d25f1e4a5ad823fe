package dev.ncalign.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ncalign.orchestrator.config.ConfigLoader;
import dev.ncalign.orchestrator.config.RunConfig;
import dev.ncalign.orchestrator.launch.ServerProcess;
import dev.ncalign.orchestrator.loop.AlignmentRun;
import dev.ncalign.orchestrator.loop.RoundListener;
import dev.ncalign.orchestrator.store.RoundMetrics;
import dev.ncalign.orchestrator.store.RunStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Same config and seed, same run (issue 11 item 1, issue 14 item 1): on a machine loaded by a
 * thread that burns CPU and forces garbage collections, runs write byte-identical {@code
 * samples.jsonl} and {@code metrics.jsonl} (apart from the wall-clock timing fields) whether they
 * sample from one policy replica or three, run uninterrupted or are killed and resumed from a
 * checkpoint, and with {@code loop.max_staleness} 0 or 1.
 */
class ReproducibleRunTest {
  private static final int ROUNDS = 3;

  @TempDir Path tmp;
  private final List<ServerProcess> replicas = new ArrayList<>();

  @AfterEach
  void stopReplicas() {
    replicas.forEach(ServerProcess::close);
  }

  @Test
  void oneReplicaOrThreeTheSameRunOnALoadedMachine() throws Exception {
    // Models built and replicas started before the load: only the runs need to share the machine.
    String one = TestAssets.config(tmp.resolve("one"), "online", ROUNDS, "");
    List<String> three = List.of("policy.targets=" + startPolicyReplicas(3));
    String threeConfig = TestAssets.config(tmp.resolve("three"), "online", ROUNDS, "");
    underLoad(
        () -> {
          run(ConfigLoader.parse(one, List.of()));
          run(ConfigLoader.parse(threeConfig, three));
        });
    RunFiles.assertSameRun(tmp.resolve("one"), tmp.resolve("three"), ROUNDS);
  }

  @Test
  void withStalenessOneAResumedRunIsTheUninterruptedRun() throws Exception {
    String staleness = "loop: {max_staleness: 1}";
    Path whole = tmp.resolve("whole");
    Path resumed = tmp.resolve("resumed");
    RunConfig wholeConfig =
        ConfigLoader.parse(TestAssets.config(whole, "online", ROUNDS, staleness), List.of());
    RunConfig resumedConfig =
        ConfigLoader.parse(TestAssets.config(resumed, "online", ROUNDS, staleness), List.of());
    underLoad(
        () -> {
          run(wholeConfig);
          RoundListener killAfterRoundTwo =
              (m, b) -> {
                if (m.round() == 2) {
                  throw new IllegalStateException("killed");
                }
              };
          try (AlignmentRun run =
              AlignmentRun.open(resumedConfig, false, List.of(killAfterRoundTwo))) {
            assertThrows(IllegalStateException.class, run::run);
          }
          try (AlignmentRun run = AlignmentRun.open(resumedConfig, true, List.of())) {
            assertEquals(3, run.firstRound());
            run.run();
          }
        });
    RunFiles.assertSameRun(whole, resumed, ROUNDS);
    List<RoundMetrics> rows = RunStore.open(whole).metrics();
    assertEquals(
        List.of(0L, 1L, 1L),
        rows.stream().map(RoundMetrics::staleness).toList(),
        "round r trains on version r - 2's samples once there is one");
    assertEquals(
        List.of(1L, 1L, 2L),
        rows.stream().map(RoundMetrics::sampledVersion).toList(),
        "rounds 1 and 2 sample the base, round 3 round 1's push");
  }

  /** Starts {@code count} policy replicas of the test policy; their targets as a YAML list. */
  private String startPolicyReplicas(int count) {
    List<String> targets = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      ServerProcess server =
          ServerProcess.start(
              "policy-" + i,
              "dev.ncalign.policy.Main",
              List.of("--model", TestAssets.policy().toString()),
              tmp.resolve("logs").resolve("policy-" + i + ".log"),
              Duration.ofMinutes(3));
      replicas.add(server);
      targets.add("'" + server.target() + "'");
    }
    return "[" + String.join(", ", targets) + "]";
  }

  private static void run(RunConfig config) {
    try (AlignmentRun run = AlignmentRun.open(config, false, List.of())) {
      run.run();
    }
  }

  /** Runs {@code work} while a thread burns CPU and forces collections. */
  private static void underLoad(Runnable work) throws InterruptedException {
    AtomicBoolean stop = new AtomicBoolean();
    Thread burner = new Thread(() -> burn(stop), "cpu-burner");
    burner.setDaemon(true);
    burner.start();
    try {
      work.run();
    } finally {
      stop.set(true);
      burner.join();
    }
  }

  /** Spins and allocates, forcing a collection now and then (frees unreachable direct buffers). */
  private static void burn(AtomicBoolean stop) {
    long sink = 0;
    for (int n = 0; !stop.get(); n++) {
      sink += new byte[1 << 16].length;
      if (n % 20_000 == 0) {
        System.gc();
      }
    }
    if (sink == 42) {
      System.out.println(sink);
    }
  }
}

package dev.ncalign.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ncalign.demo.ReviewCorpus;
import dev.ncalign.lm.model.TinyModelFactory;
import dev.ncalign.lm.model.TinyModelSpec;
import dev.ncalign.orchestrator.client.ReplicaState;
import dev.ncalign.orchestrator.client.ReplicaView;
import dev.ncalign.orchestrator.config.ConfigLoader;
import dev.ncalign.orchestrator.config.RunConfig;
import dev.ncalign.orchestrator.launch.ServerProcess;
import dev.ncalign.orchestrator.loop.AlignmentRun;
import dev.ncalign.orchestrator.loop.RoundListener;
import dev.ncalign.orchestrator.store.RoundMetrics;
import dev.ncalign.orchestrator.store.RunStore;
import dev.ncalign.orchestrator.store.SampleRecord;
import dev.ncalign.proto.v1.GetInfoRequest;
import dev.ncalign.proto.v1.PolicyServiceGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replicas that fail or do not fit. Issue 15: two policy replicas and one reward replica as child
 * processes on loopback; one policy replica is killed with SIGKILL after round 2, round 3 runs
 * without it, and it is restarted on its port after round 3. The run completes every round on
 * versions it pushed, and the restarted replica serves the live version before it can receive a
 * Generate.
 */
class ReplicaOutageTest {
  private static final Duration START = Duration.ofMinutes(3);
  private static final String POLICY = "dev.ncalign.policy.Main";

  @TempDir Path tmp;
  private final List<ServerProcess> servers = new ArrayList<>();

  @AfterEach
  void stopServers() {
    servers.forEach(ServerProcess::close);
  }

  private ServerProcess start(String name, String mainClass, Path model, int port) {
    ServerProcess server =
        ServerProcess.start(
            name,
            mainClass,
            List.of("--model", model.toString()),
            tmp.resolve("logs").resolve(name + "-" + servers.size() + ".log"),
            START,
            port);
    servers.add(server);
    return server;
  }

  /**
   * An online run of {@code rounds} on {@code policies} and a reward server started here, with
   * {@code more} overrides.
   */
  private RunConfig config(Path dir, int rounds, List<ServerProcess> policies, String... more) {
    ServerProcess reward = start("reward", "dev.ncalign.reward.Main", TestAssets.reward(), 0);
    String targets = String.join(", ", policies.stream().map(p -> "'" + p.target() + "'").toList());
    List<String> overrides = new ArrayList<>(List.of(more));
    overrides.add("policy.targets=[" + targets + "]");
    overrides.add("reward.targets=['" + reward.target() + "']");
    return ConfigLoader.parse(TestAssets.config(dir, "online", rounds, ""), overrides);
  }

  @Test
  void aKilledPolicyReplicaIsWorkedAroundThenSyncedBeforeUse() throws Exception {
    ServerProcess a = start("policy-a", POLICY, TestAssets.policy(), 0);
    ServerProcess b = start("policy-b", POLICY, TestAssets.policy(), 0);
    Path dir = tmp.resolve("run");
    RunConfig config = config(dir, 5, List.of(a, b), "clients.replica_timeout_seconds=120");

    List<String> events = new ArrayList<>();
    List<ServerProcess> restarted = new ArrayList<>();
    try (AlignmentRun run = AlignmentRun.open(config, false, List.of())) {
      RoundListener outage =
          (metrics, batch) -> {
            if (metrics.round() == 2) {
              b.kill();
              events.add("killed after round 2");
            } else if (metrics.round() == 3) {
              // The loop waits in this listener, so nothing but admission can reach the replica.
              restarted.add(start("policy-b", POLICY, TestAssets.policy(), b.port()));
              ReplicaView view = awaitUp(run, b.target());
              long served = liveVersion(b.target());
              events.add("back at v" + view.liveVersion() + ", serving v" + served);
            }
          };
      run.addListener(outage);
      run.run();
    }

    // Round r samples from version r: 1 the base model, r + 1 pushed after round r.
    assertEquals(
        List.of("killed after round 2", "back at v4, serving v4"),
        events,
        "the restarted replica was synced to the live version before the loop could use it");
    RunStore store = RunStore.open(dir);
    List<RoundMetrics> metrics = store.metrics();
    assertEquals(List.of(1, 2, 3, 4, 5), metrics.stream().map(RoundMetrics::round).toList());
    assertEquals(
        List.of(1L, 2L, 3L, 4L, 5L), metrics.stream().map(RoundMetrics::sampledVersion).toList());
    for (SampleRecord sample : store.samples()) {
      assertEquals(
          (long) sample.round(), sample.sampledVersion(), "a sample of round " + sample.round());
    }
    assertEquals(5 * 4 * 3, store.samples().size(), "rounds x prompts x K, none lost");
    String log = Files.readString(tmp.resolve("logs").resolve("policy-b-3.log"));
    assertTrue(log.contains("policy version 4 is live (replaced 1)"), log);
    assertTrue(restarted.get(0).isAlive());
  }

  @Test
  void aPolicyReplicaOnAnotherCheckpointIsRefusedBeforeRoundOneInOneLine() {
    Path other =
        TinyModelFactory.write(
            tmp.resolve("other-policy"), ReviewCorpus.vocabulary(), TinyModelSpec.tiny(), 6);
    ServerProcess wrong = start("policy-other", POLICY, other, 0);
    Path dir = tmp.resolve("refused");
    RunConfig config = config(dir, 2, List.of(wrong));

    IllegalStateException e =
        assertThrows(
            IllegalStateException.class, () -> AlignmentRun.open(config, false, List.of()));

    String expected =
        "policy replica "
            + wrong.target()
            + " serves another model than the learner's ("
            + other
            + "): base weights (sha256 ";
    assertTrue(e.getMessage().startsWith(expected), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
    assertEquals(List.of(), RunStore.open(dir).metrics(), "no round ran");
  }

  private static ReplicaView awaitUp(AlignmentRun run, String target) {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < end) {
      for (ReplicaView view : run.policyClient().replicas()) {
        if (view.target().equals(target) && view.state() == ReplicaState.UP) {
          return view;
        }
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    throw new AssertionError(target + " not back within 60 s: " + run.policyClient().replicas());
  }

  private static long liveVersion(String target) {
    ManagedChannel channel =
        Grpc.newChannelBuilder(target, InsecureChannelCredentials.create()).build();
    try {
      return PolicyServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(30, TimeUnit.SECONDS)
          .getInfo(GetInfoRequest.getDefaultInstance())
          .getLiveVersion();
    } finally {
      channel.shutdownNow();
    }
  }
}

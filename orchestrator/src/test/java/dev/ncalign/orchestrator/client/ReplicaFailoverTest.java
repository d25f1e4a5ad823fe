package dev.ncalign.orchestrator.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ncalign.lm.model.ModelFingerprint;
import dev.ncalign.proto.v1.Completion;
import dev.ncalign.proto.v1.GenerateResponse;
import dev.ncalign.proto.v1.SamplingParams;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Policy replicas that die, come back, or come back wrong, behind one {@link PolicyClient}. */
class ReplicaFailoverTest {

  private static final SamplingParams PARAMS = SamplingParams.getDefaultInstance();
  private static final byte[] WEIGHTS_V2 = {2, 2, 2};
  private static final ModelFingerprint LEARNER =
      new ModelFingerprint("LlamaForCausalLM", "s1", "t1", "w1");

  private final LoopbackServers servers = new LoopbackServers();

  @AfterEach
  void stop() {
    servers.close();
  }

  static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < end, "timed out waiting until " + what);
      Thread.sleep(20);
    }
  }

  private static void assertAllFrom(GenerateResponse response, long version) {
    assertEquals(version, response.getPolicyVersion());
    for (Completion c : response.getCompletionsList()) {
      assertEquals(version, c.getPolicyVersion(), c.getText());
    }
  }

  @Test
  void aKilledReplicaIsMarkedDownAndTheRoundGoesOnWithTheOther() throws Exception {
    FakePolicy a = new FakePolicy("a", 0);
    String targetA = servers.start(a);
    String targetB = servers.start(new FakePolicy("b", 0));
    PolicyClient client = servers.policyClient(List.of(targetA, targetB), PolicyClientTest.FAST);
    client.generate(PolicyClientTest.prompts(4), 1, PARAMS);

    servers.kill(targetB);
    GenerateResponse generated = client.generate(PolicyClientTest.prompts(4), 2, PARAMS);
    client.pushWeights(2, WEIGHTS_V2);

    assertEquals(8, generated.getCompletionsCount());
    assertTrue(generated.getCompletionsList().stream().allMatch(c -> c.getText().startsWith("a:")));
    assertEquals(2, a.version, "the push went to the live replica");
    ReplicaView b = client.replicas().get(1);
    assertEquals(targetB, b.target());
    assertEquals(ReplicaState.DOWN, b.state());
    assertEquals(1, b.outages());
    assertTrue(b.detail().contains("UNAVAILABLE"), b.detail());
    assertAllFrom(client.generate(PolicyClientTest.prompts(4), 1, PARAMS), 2);
  }

  @Test
  void aReplicaThatComesBackServesTheLiveVersionBeforeItsFirstGenerate() throws Exception {
    String targetA = servers.start(new FakePolicy("a", 0));
    String targetB = servers.start(new FakePolicy("b", 0));
    PolicyClient client = servers.policyClient(List.of(targetA, targetB), PolicyClientTest.FAST);
    servers.kill(targetB);
    client.pushWeights(2, WEIGHTS_V2);

    FakePolicy restarted = new FakePolicy("b2", 0);
    servers.restart(targetB, restarted);
    await(() -> client.replicas().get(1).state() == ReplicaState.UP, "b is back");

    assertEquals(List.of("push v2"), restarted.events, "synced, and no call before that");
    assertEquals(2L, client.replicas().get(1).liveVersion());
    GenerateResponse generated = client.generate(PolicyClientTest.prompts(4), 1, PARAMS);
    assertAllFrom(generated, 2);
    assertTrue(
        generated.getCompletionsList().stream().anyMatch(c -> c.getText().startsWith("b2:")));
    assertEquals("generate v2", restarted.events.get(1));
  }

  @Test
  void aReplicaRestartedBetweenHealthChecksIsCaughtByItsVersionStamp() throws Exception {
    FakePolicy a = new FakePolicy("a", 0);
    String targetA = servers.start(a);
    String targetB = servers.start(new FakePolicy("b", 0));
    // No health round during the test: only the answer's version can tell.
    PolicyClient client =
        servers.policyClient(
            List.of(targetA, targetB),
            PolicyClientTest.FAST.withHealthInterval(Duration.ofMinutes(10)));
    client.pushWeights(2, WEIGHTS_V2);
    servers.kill(targetB);
    FakePolicy restarted = new FakePolicy("b2", 0);
    servers.restart(targetB, restarted);

    GenerateResponse generated = client.generate(PolicyClientTest.prompts(4), 1, PARAMS);

    assertAllFrom(generated, 2);
    assertTrue(generated.getCompletionsList().stream().allMatch(c -> c.getText().startsWith("a:")));
    assertEquals(List.of("generate v1"), restarted.events, "its v1 answer was thrown away");
    assertEquals(ReplicaState.DOWN, client.replicas().get(1).state());
    assertTrue(
        client.replicas().get(1).detail().contains("answered from v1, the live version is v2"),
        client.replicas().get(1).detail());
  }

  @Test
  void withNoLiveReplicaACallWaitsForOneToComeBack() throws Exception {
    String target = servers.start(new FakePolicy("a", 0));
    PolicyClient client = servers.policyClient(List.of(target), PolicyClientTest.FAST);
    client.pushWeights(2, WEIGHTS_V2);
    servers.kill(target);

    CompletableFuture<GenerateResponse> pending =
        CompletableFuture.supplyAsync(
            () -> client.generate(PolicyClientTest.prompts(2), 1, PARAMS));
    await(() -> client.replicas().get(0).state() == ReplicaState.DOWN, "the replica is down");
    FakePolicy restarted = new FakePolicy("a2", 0);
    servers.restart(target, restarted);

    assertAllFrom(pending.get(20, TimeUnit.SECONDS), 2);
    assertEquals(List.of("push v2", "generate v2"), restarted.events);
  }

  @Test
  void aPushWithEveryReplicaDownLandsOnTheFirstOneBack() throws Exception {
    String target = servers.start(new FakePolicy("a", 0));
    PolicyClient client = servers.policyClient(List.of(target), PolicyClientTest.FAST);
    client.info();
    servers.kill(target);
    client
        .replicas()
        .forEach(r -> assertEquals(ReplicaState.UP, r.state(), "not noticed yet: " + r));

    CompletableFuture<?> push = CompletableFuture.runAsync(() -> client.pushWeights(2, WEIGHTS_V2));
    await(() -> client.replicas().get(0).state() == ReplicaState.DOWN, "the replica is down");
    FakePolicy restarted = new FakePolicy("a2", 0);
    servers.restart(target, restarted);

    push.get(20, TimeUnit.SECONDS);
    assertEquals(List.of("push v2"), restarted.events);
  }

  @Test
  void aReplicaOnAnotherModelIsRefusedInOneLineNamingIt() throws Exception {
    String sameTarget = servers.start(serving("same", "t1", "w1"));
    String otherTarget = servers.start(serving("other", "t2", "w1"));
    PolicyClient client =
        servers.policyClient(List.of(sameTarget, otherTarget), PolicyClientTest.FAST);

    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> client.requireModel(LEARNER));

    assertEquals(
        "policy replica "
            + otherTarget
            + " serves another model than the learner's (/fake/other): tokenizer (sha256 t1 vs"
            + " t2)",
        e.getMessage());
  }

  @Test
  void aReplicaThatComesBackOnAnotherModelIsKeptOut() throws Exception {
    String targetA = servers.start(serving("a", "t1", "w1"));
    String targetB = servers.start(serving("b", "t1", "w1"));
    PolicyClient client = servers.policyClient(List.of(targetA, targetB), PolicyClientTest.FAST);
    client.requireModel(LEARNER);
    servers.kill(targetB);
    client.pushWeights(2, WEIGHTS_V2);

    FakePolicy wrong = serving("wrong", "t1", "w9");
    servers.restart(targetB, wrong);
    await(() -> client.replicas().get(1).state() == ReplicaState.REFUSED, "b is refused");

    assertTrue(
        client.replicas().get(1).detail().contains("base weights (sha256 w1 vs w9)"),
        client.replicas().get(1).detail());
    client.generate(PolicyClientTest.prompts(4), 1, PARAMS);
    assertEquals(List.of(), wrong.events, "never pushed to, never asked");
  }

  /**
   * A replica of {@link #LEARNER}'s architecture and shapes with the given tokenizer and weights
   * hashes.
   */
  private static FakePolicy serving(String name, String tokenizer, String weights) {
    FakePolicy fake = new FakePolicy(name, 0);
    fake.fingerprint =
        dev.ncalign.proto.v1.ModelFingerprint.newBuilder()
            .setArchitecture(LEARNER.architecture())
            .setShapesSha256(LEARNER.shapesSha256())
            .setTokenizerSha256(tokenizer)
            .setWeightsSha256(weights)
            .build();
    return fake;
  }
}

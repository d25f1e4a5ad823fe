package dev.ncalign.orchestrator.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ncalign.proto.v1.Completion;
import dev.ncalign.proto.v1.GenerateResponse;
import dev.ncalign.proto.v1.LogprobsItem;
import dev.ncalign.proto.v1.PolicyInfo;
import dev.ncalign.proto.v1.PushWeightsResponse;
import dev.ncalign.proto.v1.SamplingParams;
import dev.ncalign.proto.v1.SequenceLogprobs;
import dev.ncalign.proto.v1.WeightHeader;
import dev.ncalign.proto.v1.WeightKind;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PolicyClientTest {

  /** Fast retries so failure paths take milliseconds. */
  static final ClientOptions FAST =
      ClientOptions.defaults()
          .withDeadline(Duration.ofSeconds(10))
          .withBackoff(Duration.ofMillis(5), Duration.ofMillis(20))
          .withHealthInterval(Duration.ofMillis(50))
          .withReplicaTimeout(Duration.ofSeconds(5));

  private final LoopbackServers servers = new LoopbackServers();

  @AfterEach
  void stop() {
    servers.close();
  }

  private PolicyClient client(List<String> targets, ClientOptions options) {
    return servers.policyClient(targets, options);
  }

  static List<String> prompts(int n) {
    return IntStream.range(0, n).mapToObj(i -> "p" + i).toList();
  }

  @Test
  void generateSpreadsPromptsOverReplicasAndKeepsOrder() throws Exception {
    List<FakePolicy> fakes =
        List.of(new FakePolicy("a", 0), new FakePolicy("b", 0), new FakePolicy("c", 0));
    List<String> targets = new ArrayList<>();
    for (FakePolicy fake : fakes) {
      targets.add(servers.start(fake));
    }
    PolicyClient client = client(targets, FAST);

    GenerateResponse response = client.generate(prompts(7), 2, SamplingParams.getDefaultInstance());

    assertEquals(14, response.getCompletionsCount());
    for (int i = 0; i < 14; i++) {
      Completion c = response.getCompletions(i);
      assertEquals(i / 2, c.getPromptIndex());
      assertEquals(i % 2, c.getSampleIndex());
      assertTrue(c.getText().endsWith(":p" + (i / 2) + "#" + (i % 2)), c.getText());
    }
    // Every replica generated a contiguous slice of the prompts.
    List<String> seen = new ArrayList<>();
    fakes.forEach(
        f -> {
          assertEquals(1, f.generated.size());
          seen.addAll(f.generated.get(0));
        });
    assertEquals(7, seen.size());
    assertEquals(prompts(7), seen.stream().sorted().toList());
    assertEquals(1, response.getPolicyVersion());
  }

  @Test
  void slicesOfOneSeededRequestKeepTheSeedAndCarryTheirOffset() throws Exception {
    FakePolicy a = new FakePolicy("a", 0);
    FakePolicy b = new FakePolicy("b", 0);
    PolicyClient client = client(List.of(servers.start(a), servers.start(b)), FAST);

    client.generate(prompts(4), 1, SamplingParams.newBuilder().setSeed(42).build());
    // Each slice draws the streams of its prompts' places in the whole batch, so the completions
    // do not depend on how many replicas shared it.
    assertEquals(List.of(42L, 42L), List.of(a.seeds.get(0), b.seeds.get(0)));
    List<Integer> offsets = new ArrayList<>(List.of(a.firstPrompts.get(0), b.firstPrompts.get(0)));
    offsets.sort(null);
    assertEquals(List.of(0, 2), offsets);

    client.generate(prompts(4), 1, SamplingParams.getDefaultInstance());
    assertEquals(List.of(false, false), List.of(a.seeded.get(1), b.seeded.get(1)));
  }

  @Test
  void singlePromptCallsRotateOverReplicas() throws Exception {
    List<FakePolicy> fakes = List.of(new FakePolicy("a", 0), new FakePolicy("b", 0));
    PolicyClient client =
        client(List.of(servers.start(fakes.get(0)), servers.start(fakes.get(1))), FAST);
    for (int i = 0; i < 4; i++) {
      client.generate(List.of("x"), 1, SamplingParams.getDefaultInstance());
    }
    assertEquals(2, fakes.get(0).generated.size());
    assertEquals(2, fakes.get(1).generated.size());
  }

  @Test
  void requestsStayWithinTheServersLimits() throws Exception {
    FakePolicy fake = new FakePolicy("a", 2);
    PolicyClient client = client(List.of(servers.start(fake)), FAST);

    GenerateResponse response = client.generate(prompts(5), 1, SamplingParams.getDefaultInstance());
    assertEquals(List.of(1, 2, 2), fake.generated.stream().map(List::size).sorted().toList());
    assertEquals(
        IntStream.range(0, 5).boxed().toList(),
        response.getCompletionsList().stream().map(Completion::getPromptIndex).toList());

    // ComputeLogprobs: at most max_prompts × max_num_samples = 8 items per call, results in order.
    List<LogprobsItem> items =
        IntStream.range(0, 19)
            .mapToObj(i -> LogprobsItem.newBuilder().setResponse("r".repeat(i)).build())
            .toList();
    List<SequenceLogprobs> results = client.logprobs(items).getResultsList();
    assertEquals(
        IntStream.range(0, 19).mapToDouble(i -> -i).boxed().toList(),
        results.stream().map(SequenceLogprobs::getSumLogprob).toList());
    assertTrue(fake.logprobBatches.stream().allMatch(n -> n <= 8), fake.logprobBatches.toString());
  }

  @Test
  void pushReachesEveryReplicaInChunksWithTheToken() throws Exception {
    List<FakePolicy> fakes =
        List.of(new FakePolicy("a", 0), new FakePolicy("b", 0), new FakePolicy("c", 0));
    List<String> targets = new ArrayList<>();
    for (FakePolicy fake : fakes) {
      targets.add(servers.start(fake));
    }
    byte[] weights = new byte[(5 << 20) / 2 + 17];
    new Random(7).nextBytes(weights);
    PolicyClient client = client(targets, FAST.withBearerToken("s3cret"));

    PushWeightsResponse response = client.pushWeights(2, weights);

    assertEquals(2, response.getLiveVersion());
    WeightHeader expected =
        WeightHeader.newBuilder()
            .setVersion(2)
            .setFormat("safetensors")
            .setTotalBytes(weights.length)
            .setSha256Hex(FakePolicy.sha256(weights))
            .setKind(WeightKind.FULL)
            .build();
    for (FakePolicy fake : fakes) {
      assertEquals(List.of(expected), fake.headers);
      assertArrayEquals(weights, fake.weights);
      assertEquals(List.of(1 << 20, 1 << 20, weights.length - (2 << 20)), fake.chunkSizes);
      assertEquals(2, fake.version);
    }
    assertEquals(
        List.of("Bearer s3cret", "Bearer s3cret", "Bearer s3cret"), servers.authorizations);
    assertEquals(
        List.of(2L, 2L, 2L), client.info().stream().map(PolicyInfo::getLiveVersion).toList());
  }

  @Test
  void pushFailsNamingTheReplicaThatRejected() throws Exception {
    FakePolicy good = new FakePolicy("good", 0);
    FakePolicy bad = new FakePolicy("bad", 0);
    bad.rejectPush =
        Status.FAILED_PRECONDITION.withDescription("shape mismatch for lm_head.weight");
    String goodTarget = servers.start(good);
    String badTarget = servers.start(bad);
    PolicyClient client = client(List.of(goodTarget, badTarget), FAST);

    RpcException e =
        assertThrows(RpcException.class, () -> client.pushWeights(2, new byte[] {1, 2, 3}));

    assertEquals(Status.Code.FAILED_PRECONDITION, e.code());
    assertEquals(
        "policy PushWeights failed on 1 of 2 replicas: "
            + badTarget
            + " (FAILED_PRECONDITION: shape mismatch for lm_head.weight)",
        e.getMessage());
    assertEquals(2, good.version);
    assertEquals(1, bad.version);
    // Samples must not mix versions: the replica still on v1 is taken out, its slice re-sent.
    GenerateResponse response = client.generate(prompts(2), 1, SamplingParams.getDefaultInstance());
    assertEquals(2, response.getPolicyVersion());
    for (Completion c : response.getCompletionsList()) {
      assertEquals(2, c.getPolicyVersion());
      assertTrue(c.getText().startsWith("good:"), c.getText());
    }
    assertEquals(ReplicaState.DOWN, client.replicas().get(1).state());
  }

  @Test
  void unavailableIsRetriedWithBackoffUntilItWorks() throws Exception {
    FakePolicy fake = new FakePolicy("a", 0);
    PolicyClient client = client(List.of(servers.start(fake)), FAST);
    client.info(); // GetInfo is not subject to the countdown; fetch limits first

    fake.unavailableCalls.set(3);
    GenerateResponse response =
        client.generate(List.of("x"), 1, SamplingParams.getDefaultInstance());

    assertEquals(1, response.getCompletionsCount());
    assertEquals(1, fake.generated.size());
    assertTrue(fake.unavailableCalls.get() < 0, "the fake saw all 3 failing attempts");
  }

  @Test
  void aDownReplicaIsSkippedForTheNextOne() throws Exception {
    FakePolicy fake = new FakePolicy("up", 0);
    PolicyClient client =
        client(List.of(LoopbackServers.deadTarget(), servers.start(fake)), FAST.withRetries(0));
    for (int i = 0; i < 3; i++) {
      assertEquals(
          1,
          client
              .generate(List.of("x"), 1, SamplingParams.getDefaultInstance())
              .getCompletionsCount());
    }
    assertEquals(3, fake.generated.size());
  }

  @Test
  void noLiveReplicaForTheTimeoutIsOneClearLineNamingEach() throws Exception {
    String first = LoopbackServers.deadTarget();
    String second = LoopbackServers.deadTarget();
    PolicyClient client =
        client(List.of(first, second), FAST.withReplicaTimeout(Duration.ofMillis(300)));

    long start = System.nanoTime();
    RpcException e =
        assertThrows(
            RpcException.class,
            () -> client.generate(List.of("x"), 1, SamplingParams.getDefaultInstance()));

    assertTrue(System.nanoTime() - start >= 300_000_000L, "waited the timeout for a replica");
    assertEquals(Status.Code.UNAVAILABLE, e.code());
    assertTrue(
        e.getMessage()
            .startsWith(
                "no live policy replica for 0.3 s (clients.replica_timeout_seconds), GetInfo gave"
                    + " up: "
                    + first
                    + " (down: "),
        e.getMessage());
    assertTrue(e.getMessage().contains(", " + second + " (down: "), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
    assertFalse(client.awaitReady(Duration.ofMillis(200)));
  }

  @Test
  void deadlineExceededIsReportedNotRetried() throws Exception {
    FakePolicy fake = new FakePolicy("slow", 0);
    PolicyClient client =
        client(List.of(servers.start(fake)), FAST.withDeadline(Duration.ofMillis(300)));
    client.info();
    fake.hang = true;

    RpcException e =
        assertThrows(
            RpcException.class,
            () -> client.generate(List.of("x"), 1, SamplingParams.getDefaultInstance()));

    assertEquals(Status.Code.DEADLINE_EXCEEDED, e.code());
    assertTrue(e.getMessage().startsWith("policy Generate on 127.0.0.1:"), e.getMessage());
  }

  @Test
  void readyWhenEveryReplicaServes() throws Exception {
    PolicyClient client =
        client(
            List.of(servers.start(new FakePolicy("a", 0)), servers.start(new FakePolicy("b", 0))),
            FAST);
    assertTrue(client.awaitReady(Duration.ofSeconds(10)));
  }
}

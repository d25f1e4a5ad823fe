package dev.ncalign.orchestrator.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ncalign.proto.v1.ScoreItem;
import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RewardClientTest {

  private final LoopbackServers servers = new LoopbackServers();
  private RewardClient client;

  @AfterEach
  void stop() throws Exception {
    if (client != null) {
      client.close();
    }
    servers.close();
  }

  private static List<ScoreItem> items(int n) {
    return IntStream.range(0, n)
        .mapToObj(i -> ScoreItem.newBuilder().setPrompt("p").setResponse("r".repeat(i)).build())
        .toList();
  }

  @Test
  void scoresAreSplitUnderMaxItemsAcrossReplicasAndComeBackInOrder() throws Exception {
    FakeReward a = new FakeReward(3);
    FakeReward b = new FakeReward(3);
    client = new RewardClient(List.of(servers.start(a), servers.start(b)), PolicyClientTest.FAST);

    float[] rewards = client.score(items(10));

    float[] expected = new float[10];
    for (int i = 0; i < 10; i++) {
      expected[i] = i;
    }
    assertArrayEquals(expected, rewards);
    assertTrue(
        a.batches.stream().allMatch(n -> n <= 3) && b.batches.stream().allMatch(n -> n <= 3));
    assertEquals(
        10,
        a.batches.stream().mapToInt(Integer::intValue).sum()
            + b.batches.stream().mapToInt(Integer::intValue).sum());
    assertTrue(!a.batches.isEmpty() && !b.batches.isEmpty(), "both replicas scored");
  }

  @Test
  void unavailableIsRetriedThenSucceeds() throws Exception {
    FakeReward fake = new FakeReward(0);
    client = new RewardClient(List.of(servers.start(fake)), PolicyClientTest.FAST);
    assertEquals("abc", client.info().getModelSha256());
    fake.unavailableCalls.set(2);

    assertArrayEquals(new float[] {0, 1}, client.score(items(2)));
    assertEquals(List.of(2), fake.batches);
  }

  @Test
  void retriesAreBounded() throws Exception {
    FakeReward fake = new FakeReward(0);
    String target = servers.start(fake);
    client = new RewardClient(List.of(target), PolicyClientTest.FAST.withRetries(1));
    client.info();
    fake.unavailableCalls.set(5);

    RpcException e = assertThrows(RpcException.class, () -> client.score(items(1)));
    assertEquals(Status.Code.UNAVAILABLE, e.code());
    assertEquals(
        "every reward replica is down: " + target + " (UNAVAILABLE: busy); 2 attempts each",
        e.getMessage());
    assertEquals(3, fake.unavailableCalls.get());
  }

  @Test
  void nothingToScoreMakesNoCall() throws Exception {
    client = new RewardClient(List.of(LoopbackServers.deadTarget()), PolicyClientTest.FAST);
    assertEquals(0, client.score(List.of()).length);
  }

  @Test
  void readyWhenServing() throws Exception {
    client = new RewardClient(List.of(servers.start(new FakeReward(0))), PolicyClientTest.FAST);
    assertTrue(client.awaitReady(Duration.ofSeconds(10)));
  }
}

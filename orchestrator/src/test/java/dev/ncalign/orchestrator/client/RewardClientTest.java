package dev.ncalign.orchestrator.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ncalign.proto.v1.ScoreItem;
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
  void aReplicaStillUnavailableAfterItsRetriesIsMarkedDownAndTheSliceGoesElsewhere()
      throws Exception {
    FakeReward failing = new FakeReward(0);
    FakeReward healthy = new FakeReward(0);
    String failingTarget = servers.start(failing);
    client =
        new RewardClient(
            List.of(failingTarget, servers.start(healthy)),
            PolicyClientTest.FAST.withRetries(1).withHealthInterval(Duration.ofMinutes(1)));
    client.score(items(1)); // limits fetched first, so the countdown only meets Score's slices
    healthy.batches.clear();
    failing.batches.clear();
    failing.unavailableCalls.set(100);

    assertArrayEquals(new float[] {0, 1, 2, 3}, client.score(items(4)));

    assertEquals(98, failing.unavailableCalls.get(), "one attempt and one retry, no more");
    assertEquals(List.of(2, 2), healthy.batches, "its own slice, then the re-sent one");
    ReplicaView down = client.replicas().get(0);
    assertEquals(failingTarget, down.target());
    assertEquals(ReplicaState.DOWN, down.state());
    assertEquals(1, down.outages());
    assertTrue(down.detail().startsWith("Score: UNAVAILABLE: busy"), down.detail());
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

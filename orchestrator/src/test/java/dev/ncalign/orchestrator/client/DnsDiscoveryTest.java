package dev.ncalign.orchestrator.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ncalign.proto.v1.Completion;
import dev.ncalign.proto.v1.GenerateResponse;
import dev.ncalign.proto.v1.SamplingParams;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A {@code dns:///} policy target whose name resolves, through a resolver the test controls, to
 * loopback addresses that change while the client runs, as a headless Service's do.
 */
class DnsDiscoveryTest {

  private final LoopbackServers servers = new LoopbackServers();
  private PolicyClient client;
  private volatile List<InetAddress> addresses;

  @AfterEach
  void stop() {
    if (client != null) {
      client.close();
    }
    servers.close();
  }

  @Test
  void replicasThatAppearAreSyncedBeforeUseAndThoseThatVanishAreDropped() throws Exception {
    InetAddress first = InetAddress.getByName("127.0.0.1");
    InetAddress second = InetAddress.getByName("127.0.0.2");
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, first)) {
      port = probe.getLocalPort();
    }
    FakePolicy a = new FakePolicy("a", 0);
    FakePolicy b = new FakePolicy("b", 0);
    servers.startAt(new InetSocketAddress(first, port), a);
    servers.startAt(new InetSocketAddress(second, port), b);
    addresses = List.of(first);
    client =
        new PolicyClient(
            List.of("dns:///policy.test:" + port), PolicyClientTest.FAST, host -> addresses);
    client.pushWeights(2, new byte[] {2});
    assertEquals(List.of("push v2"), a.events);

    addresses = List.of(first, second);
    ReplicaFailoverTest.await(
        () -> client.replicas().size() == 2 && client.replicas().get(1).state() == ReplicaState.UP,
        "127.0.0.2 joined");
    assertEquals("127.0.0.2:" + port, client.replicas().get(1).target());
    assertEquals(List.of("push v2"), b.events, "synced before any call");
    GenerateResponse spread =
        client.generate(PolicyClientTest.prompts(4), 1, SamplingParams.getDefaultInstance());
    assertEquals(2, spread.getPolicyVersion());
    assertTrue(spread.getCompletionsList().stream().anyMatch(c -> c.getText().startsWith("a:")));
    assertTrue(spread.getCompletionsList().stream().anyMatch(c -> c.getText().startsWith("b:")));

    addresses = List.of(second);
    ReplicaFailoverTest.await(() -> client.replicas().size() == 1, "127.0.0.1 dropped");
    assertEquals("127.0.0.2:" + port, client.replicas().get(0).target());
    int before = a.generated.size();
    for (Completion c :
        client
            .generate(PolicyClientTest.prompts(4), 1, SamplingParams.getDefaultInstance())
            .getCompletionsList()) {
      assertTrue(c.getText().startsWith("b:"), c.getText());
    }
    assertEquals(before, a.generated.size(), "nothing goes to a dropped replica");
  }

  @Test
  void aNameThatResolvesToNothingYetWaitsForReplicasToAppear() throws Exception {
    FakePolicy a = new FakePolicy("a", 0);
    String target = servers.start(a);
    int port = Integer.parseInt(target.substring(target.indexOf(':') + 1));
    addresses = List.of();
    client =
        new PolicyClient(
            List.of("dns:///policy.test:" + port), PolicyClientTest.FAST, host -> addresses);
    assertEquals(List.of(), client.replicas());

    addresses = List.of(InetAddress.getByName("127.0.0.1"));
    GenerateResponse response =
        client.generate(PolicyClientTest.prompts(2), 1, SamplingParams.getDefaultInstance());

    assertEquals(2, response.getCompletionsCount());
  }
}

package dev.ncalign.orchestrator.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DiscoveryTest {

  @Test
  void localhostResolvesToTheLoopbackAddresses() {
    Map<String, String> errors = new LinkedHashMap<>();
    Map<String, String> members =
        new Discovery(List.of("dns:///localhost:50051"), Discovery.Resolver.SYSTEM).resolve(errors);

    assertEquals(Map.of(), errors);
    assertTrue(members.containsKey("127.0.0.1:50051"), members.toString());
    members.forEach(
        (address, source) -> {
          assertEquals("dns:///localhost:50051", source);
          assertTrue(
              address.startsWith("127.") || address.startsWith("[0:0:0:0:0:0:0:1]"), address);
        });
  }

  @Test
  void everyAddressIsAReplicaAndPlainTargetsStayAsWritten() throws UnknownHostException {
    InetAddress v4 = InetAddress.getByName("127.0.0.2");
    InetAddress v6 = InetAddress.getByName("::1");
    Discovery discovery =
        new Discovery(
            List.of("dns:///policy.test:7000", "127.0.0.1:7001"), host -> List.of(v4, v6, v4));

    assertTrue(discovery.dynamic());
    assertEquals(
        List.of("127.0.0.2:7000", "[0:0:0:0:0:0:0:1]:7000", "127.0.0.1:7001"),
        List.copyOf(discovery.resolve(new LinkedHashMap<>()).keySet()));
  }

  @Test
  void aNameThatDoesNotResolveContributesNothingAndSaysWhy() {
    Map<String, String> errors = new LinkedHashMap<>();
    Discovery discovery =
        new Discovery(
            List.of("dns:///gone.test:7000"),
            host -> {
              throw new UnknownHostException(host + ": no such name");
            });

    assertEquals(Map.of(), discovery.resolve(errors));
    assertEquals(
        Map.of("dns:///gone.test:7000", "cannot resolve gone.test: gone.test: no such name"),
        errors);
  }

  @Test
  void malformedDnsTargetsAreRejectedUpFront() {
    for (String bad :
        List.of("dns:///policy", "dns:///:7000", "dns:///policy:99999", "dns://8.8.8.8/p:1")) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  new Discovery(
                      List.of(bad),
                      host -> {
                        throw new AssertionError("looked up " + host);
                      }));
      assertTrue(e.getMessage().startsWith("target " + bad + ": "), e.getMessage());
    }
  }
}

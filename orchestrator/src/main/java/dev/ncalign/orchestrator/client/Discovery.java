package dev.ncalign.orchestrator.client;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns configured targets into replica addresses. {@code dns:///name:port} stands for every
 * address {@code name} resolves to (a Kubernetes headless Service lists one per ready pod) and is
 * resolved again on each {@link #resolve()}; any other target is one replica as written.
 */
final class Discovery {

  /** Name lookup, replaceable in tests by one that answers loopback addresses of its choosing. */
  @FunctionalInterface
  interface Resolver {
    /** Every address of {@code host}. */
    List<InetAddress> lookup(String host) throws UnknownHostException;

    Resolver SYSTEM = host -> List.of(InetAddress.getAllByName(host));
  }

  private static final String DNS = "dns:///";

  private final List<String> targets;
  private final Resolver resolver;

  Discovery(List<String> targets, Resolver resolver) {
    if (targets.isEmpty()) {
      throw new IllegalArgumentException("no targets given");
    }
    targets.forEach(Discovery::checkSyntax);
    this.targets = List.copyOf(targets);
    this.resolver = resolver;
  }

  /** Whether any target is re-resolved (worth polling). */
  boolean dynamic() {
    return targets.stream().anyMatch(t -> t.startsWith(DNS));
  }

  /**
   * Replica address → the target it came from, in target order; a name that does not resolve
   * contributes nothing, and its error is in {@code errors} (target → message).
   */
  Map<String, String> resolve(Map<String, String> errors) {
    Map<String, String> members = new LinkedHashMap<>();
    for (String target : targets) {
      if (!target.startsWith(DNS)) {
        members.putIfAbsent(target, target);
        continue;
      }
      String[] hostPort = hostAndPort(target);
      try {
        for (InetAddress address : resolver.lookup(hostPort[0])) {
          members.putIfAbsent(address(address) + ":" + hostPort[1], target);
        }
      } catch (UnknownHostException e) {
        errors.put(target, "cannot resolve " + hostPort[0] + ": " + e.getMessage());
      }
    }
    return members;
  }

  private static String address(InetAddress address) {
    return address instanceof Inet6Address
        ? "[" + address.getHostAddress() + "]"
        : address.getHostAddress();
  }

  private static void checkSyntax(String target) {
    if (target.startsWith(DNS)) {
      hostAndPort(target);
    } else if (target.startsWith("dns:")) {
      throw new IllegalArgumentException(
          "target "
              + target
              + ": write dns:///name:port (a DNS server authority is not supported)");
    }
  }

  /** {@code dns:///name:port} → {name, port}; the port is required. */
  private static String[] hostAndPort(String target) {
    String rest = target.substring(DNS.length());
    int colon = rest.lastIndexOf(':');
    String host = colon > 0 ? rest.substring(0, colon) : "";
    String port = colon > 0 ? rest.substring(colon + 1) : "";
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    if (host.isEmpty() || !port.matches("\\d{1,5}") || Integer.parseInt(port) > 65535) {
      throw new IllegalArgumentException("target " + target + ": expected dns:///name:port");
    }
    return new String[] {host, port};
  }

  /** The configured targets, for messages. */
  List<String> targets() {
    return new ArrayList<>(targets);
  }
}

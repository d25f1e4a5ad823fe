package dev.ncalign.orchestrator.client;

import java.time.Duration;

/**
 * How {@link PolicyClient} and {@link RewardClient} call their replicas.
 *
 * @param deadline deadline of every single RPC attempt (a PushWeights attempt covers the whole
 *     upload and the server's load and swap)
 * @param retries extra attempts of a request on the same replica after it answered UNAVAILABLE
 *     while its connection stayed up (a replica warming up), ≥ 0; a replica whose connection fails,
 *     or that is still unavailable after these attempts, is marked down and the request goes to
 *     another live replica. Other errors are not retried
 * @param initialBackoff pause before the first extra attempt, doubled before each further one
 * @param maxBackoff cap of the pause
 * @param replicaTimeout how long a service may have no live replica before calls to it fail
 * @param healthInterval how often the replicas are health-checked (down ones brought back, dns
 *     targets re-resolved)
 * @param bearerToken sent as {@code authorization: Bearer <token>} on every call; null for none
 *     (the servers require it for PushWeights when they listen beyond loopback)
 */
public record ClientOptions(
    Duration deadline,
    int retries,
    Duration initialBackoff,
    Duration maxBackoff,
    Duration replicaTimeout,
    Duration healthInterval,
    String bearerToken) {

  public ClientOptions {
    positive(deadline, "deadline");
    positive(replicaTimeout, "replicaTimeout");
    positive(healthInterval, "healthInterval");
    if (retries < 0) {
      throw new IllegalArgumentException("retries must be >= 0, got " + retries);
    }
    if (initialBackoff.isNegative() || maxBackoff.compareTo(initialBackoff) < 0) {
      throw new IllegalArgumentException(
          "need 0 <= initialBackoff <= maxBackoff, got " + initialBackoff + " and " + maxBackoff);
    }
  }

  private static void positive(Duration value, String name) {
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + " must be > 0, got " + value);
    }
  }

  /**
   * 60 s deadline, 3 retries, backoff 200 ms doubling up to 5 s, replicas may all be down for 60 s,
   * health checks every second, no token.
   */
  public static ClientOptions defaults() {
    return new ClientOptions(
        Duration.ofSeconds(60),
        3,
        Duration.ofMillis(200),
        Duration.ofSeconds(5),
        Duration.ofSeconds(60),
        Duration.ofSeconds(1),
        null);
  }

  public ClientOptions withDeadline(Duration value) {
    return new ClientOptions(
        value, retries, initialBackoff, maxBackoff, replicaTimeout, healthInterval, bearerToken);
  }

  public ClientOptions withRetries(int value) {
    return new ClientOptions(
        deadline, value, initialBackoff, maxBackoff, replicaTimeout, healthInterval, bearerToken);
  }

  public ClientOptions withBackoff(Duration initial, Duration max) {
    return new ClientOptions(
        deadline, retries, initial, max, replicaTimeout, healthInterval, bearerToken);
  }

  public ClientOptions withReplicaTimeout(Duration value) {
    return new ClientOptions(
        deadline, retries, initialBackoff, maxBackoff, value, healthInterval, bearerToken);
  }

  public ClientOptions withHealthInterval(Duration value) {
    return new ClientOptions(
        deadline, retries, initialBackoff, maxBackoff, replicaTimeout, value, bearerToken);
  }

  public ClientOptions withBearerToken(String value) {
    return new ClientOptions(
        deadline, retries, initialBackoff, maxBackoff, replicaTimeout, healthInterval, value);
  }
}

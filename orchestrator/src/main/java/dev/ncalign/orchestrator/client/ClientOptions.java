package dev.ncalign.orchestrator.client;

import java.time.Duration;

/**
 * How {@link PolicyClient} and {@link RewardClient} call their replicas.
 *
 * @param deadline deadline of every single RPC attempt (a PushWeights attempt covers the whole
 *     upload and the server's load and swap)
 * @param retries extra passes over the replicas after every one answered UNAVAILABLE, ≥ 0; other
 *     errors are not retried
 * @param initialBackoff pause before the first extra pass, doubled before each further one
 * @param maxBackoff cap of the pause
 * @param bearerToken sent as {@code authorization: Bearer <token>} on every call; null for none
 *     (the servers require it for PushWeights when they listen beyond loopback)
 */
public record ClientOptions(
    Duration deadline,
    int retries,
    Duration initialBackoff,
    Duration maxBackoff,
    String bearerToken) {

  public ClientOptions {
    if (deadline.isNegative() || deadline.isZero()) {
      throw new IllegalArgumentException("deadline must be > 0, got " + deadline);
    }
    if (retries < 0) {
      throw new IllegalArgumentException("retries must be >= 0, got " + retries);
    }
    if (initialBackoff.isNegative() || maxBackoff.compareTo(initialBackoff) < 0) {
      throw new IllegalArgumentException(
          "need 0 <= initialBackoff <= maxBackoff, got " + initialBackoff + " and " + maxBackoff);
    }
  }

  /** 60 s deadline, 3 retries, backoff 200 ms doubling up to 5 s, no token. */
  public static ClientOptions defaults() {
    return new ClientOptions(
        Duration.ofSeconds(60), 3, Duration.ofMillis(200), Duration.ofSeconds(5), null);
  }

  public ClientOptions withDeadline(Duration value) {
    return new ClientOptions(value, retries, initialBackoff, maxBackoff, bearerToken);
  }

  public ClientOptions withRetries(int value) {
    return new ClientOptions(deadline, value, initialBackoff, maxBackoff, bearerToken);
  }

  public ClientOptions withBackoff(Duration initial, Duration max) {
    return new ClientOptions(deadline, retries, initial, max, bearerToken);
  }

  public ClientOptions withBearerToken(String value) {
    return new ClientOptions(deadline, retries, initialBackoff, maxBackoff, value);
  }
}

package dev.ncalign.orchestrator.client;

import io.grpc.Status;

/**
 * A call that failed for good: a non-retryable error from one replica, UNAVAILABLE from every
 * replica after all retries, or a failure of some replicas in a call that needs all of them
 * (PushWeights). The message names the service, the method, and each failed target with its status.
 */
public final class RpcException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient Status status;

  RpcException(String message, Status status, Throwable cause) {
    super(message, cause);
    this.status = status;
  }

  /** The gRPC status code of the (first) failure; UNAVAILABLE when every replica is down. */
  public Status.Code code() {
    return status.getCode();
  }

  /** The status of the (first) failure. */
  public Status status() {
    return status;
  }

  /**
   * {@code UNAVAILABLE: io exception: Connection refused: ...}: the status and its root cause, one
   * line.
   */
  static String describe(Status status) {
    StringBuilder out = new StringBuilder(status.getCode().name());
    if (status.getDescription() != null) {
      out.append(": ").append(status.getDescription());
    }
    Throwable root = status.getCause();
    while (root != null && root.getCause() != null) {
      root = root.getCause();
    }
    if (root != null && root.getMessage() != null) {
      out.append(": ").append(root.getMessage());
    }
    return out.toString().replace('\n', ' ');
  }
}

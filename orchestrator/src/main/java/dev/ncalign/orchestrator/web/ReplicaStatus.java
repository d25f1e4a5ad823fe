package dev.ncalign.orchestrator.web;

import java.util.List;

/**
 * What the dashboard shows about the serving side: one entry per policy or reward replica. The
 * dashboard calls it on a worker thread when a page asks for the status, so an implementation may
 * block on health probes (keep their timeouts short).
 */
@FunctionalInterface
public interface ReplicaStatus {

  /** The replicas as they are now. */
  List<Replica> replicas();

  /** No replicas to report (tests, offline runs without servers). */
  static ReplicaStatus none() {
    return List::of;
  }

  /** Which service a replica serves. */
  enum Role {
    POLICY,
    REWARD
  }

  /**
   * One replica.
   *
   * @param role the service it serves
   * @param target its gRPC target, e.g. {@code 127.0.0.1:50051}
   * @param healthy whether its health service reports SERVING
   * @param liveVersion the policy version it serves; null for reward replicas or when unknown
   */
  record Replica(Role role, String target, boolean healthy, Long liveVersion) {}
}

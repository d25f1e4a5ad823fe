package dev.ncalign.orchestrator.web;

import java.util.List;

/**
 * What the dashboard shows about the serving side: one entry per policy or reward replica. The
 * dashboard calls it on a worker thread when a page asks for the status, and before each Prometheus
 * scrape, so an implementation should answer from what it knows rather than probe.
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
   * @param healthy whether calls go to it (it serves and is in step)
   * @param liveVersion the policy version it serves; null for reward replicas or when unknown
   * @param state {@code up}, {@code down} or {@code refused}
   * @param detail why it is down or refused; empty when there is nothing to say
   * @param outages how many times it went down during this run
   */
  record Replica(
      Role role,
      String target,
      boolean healthy,
      Long liveVersion,
      String state,
      String detail,
      int outages) {

    /** A replica known only to be serving or not. */
    public Replica(Role role, String target, boolean healthy, Long liveVersion) {
      this(role, target, healthy, liveVersion, healthy ? "up" : "down", "", 0);
    }
  }
}

package dev.ncalign.orchestrator.web;

import dev.ncalign.orchestrator.store.RoundMetrics;
import java.util.List;
import java.util.Objects;

/** Which policy version is live, as far as the dashboard can tell. */
final class LiveVersion {

  private LiveVersion() {}

  /**
   * The version the replicas serve once a round is recorded: the loop pushes {@code policyVersion +
   * 1} after every round, online and offline alike (see {@code AlignmentLoop#runRound}).
   */
  static long afterRound(RoundMetrics metrics) {
    return metrics.policyVersion() + 1;
  }

  /**
   * The highest version a policy replica reports (replicas can lag during a push), else the one
   * implied by the last round, else null for a run that has neither.
   */
  static Long of(List<ReplicaStatus.Replica> replicas, RoundMetrics last) {
    return replicas.stream()
        .filter(r -> r.role() == ReplicaStatus.Role.POLICY)
        .map(ReplicaStatus.Replica::liveVersion)
        .filter(Objects::nonNull)
        .max(Long::compare)
        .orElse(last == null ? null : afterRound(last));
  }
}

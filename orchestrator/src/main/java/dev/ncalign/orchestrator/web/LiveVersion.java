package dev.ncalign.orchestrator.web;

import dev.ncalign.orchestrator.store.RoundMetrics;
import java.util.List;
import java.util.Objects;

/** Which policy version is live, as far as the dashboard can tell. */
final class LiveVersion {

  private LiveVersion() {}

  /**
   * The highest version a policy replica reports (replicas can lag during a push), else the one the
   * last round pushed, else null for a run that has neither.
   */
  static Long of(List<ReplicaStatus.Replica> replicas, RoundMetrics last) {
    return replicas.stream()
        .filter(r -> r.role() == ReplicaStatus.Role.POLICY)
        .map(ReplicaStatus.Replica::liveVersion)
        .filter(Objects::nonNull)
        .max(Long::compare)
        .orElse(last == null ? null : last.liveVersion());
  }
}

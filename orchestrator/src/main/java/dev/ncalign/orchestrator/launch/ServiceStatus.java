package dev.ncalign.orchestrator.launch;

import dev.ncalign.orchestrator.web.ReplicaStatus;
import dev.ncalign.proto.v1.PolicyInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The replicas of a run's {@link Services} as the dashboard shows them: health, and each policy's
 * live version.
 */
public final class ServiceStatus implements ReplicaStatus {
  private static final Duration PROBE = Duration.ofSeconds(1);

  private final Services services;

  public ServiceStatus(Services services) {
    this.services = services;
  }

  @Override
  public List<Replica> replicas() {
    List<Replica> out = new ArrayList<>();
    Map<String, Boolean> policyHealth = services.policy().health(PROBE);
    List<Long> versions = policyVersions(policyHealth);
    int i = 0;
    for (Map.Entry<String, Boolean> e : policyHealth.entrySet()) {
      out.add(
          new Replica(
              Role.POLICY, e.getKey(), e.getValue(), versions.isEmpty() ? null : versions.get(i)));
      i++;
    }
    services
        .reward()
        .health(PROBE)
        .forEach((target, healthy) -> out.add(new Replica(Role.REWARD, target, healthy, null)));
    return out;
  }

  /**
   * Live versions in target order, or empty when a replica is down (GetInfo asks every replica).
   */
  private List<Long> policyVersions(Map<String, Boolean> health) {
    if (health.containsValue(false)) {
      return List.of();
    }
    try {
      return services.policy().info().stream().map(PolicyInfo::getLiveVersion).toList();
    } catch (RuntimeException e) {
      return List.of();
    }
  }
}

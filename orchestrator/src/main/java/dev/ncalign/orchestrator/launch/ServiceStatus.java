package dev.ncalign.orchestrator.launch;

import dev.ncalign.orchestrator.client.ReplicaState;
import dev.ncalign.orchestrator.client.ReplicaView;
import dev.ncalign.orchestrator.web.ReplicaStatus;
import java.util.ArrayList;
import java.util.List;

/**
 * The replicas of a run's {@link Services} as the dashboard shows them: what the clients know of
 * each (state, live version, why it is down), without calling any.
 */
public final class ServiceStatus implements ReplicaStatus {
  private final Services services;

  public ServiceStatus(Services services) {
    this.services = services;
  }

  @Override
  public List<Replica> replicas() {
    List<Replica> out = new ArrayList<>();
    services.policy().replicas().forEach(r -> out.add(replica(Role.POLICY, r)));
    services.reward().replicas().forEach(r -> out.add(replica(Role.REWARD, r)));
    return out;
  }

  private static Replica replica(Role role, ReplicaView view) {
    return new Replica(
        role,
        view.target(),
        view.state() == ReplicaState.UP,
        view.liveVersion(),
        view.state().name().toLowerCase(),
        view.detail(),
        view.outages());
  }
}

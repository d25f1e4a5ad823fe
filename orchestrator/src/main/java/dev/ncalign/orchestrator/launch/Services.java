package dev.ncalign.orchestrator.launch;

import dev.ncalign.orchestrator.client.ClientOptions;
import dev.ncalign.orchestrator.client.PolicyClient;
import dev.ncalign.orchestrator.client.RewardClient;
import dev.ncalign.orchestrator.config.RunConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The policy and reward replicas a run talks to, with their clients: the running ones the config
 * names, or one local server of each started here (and stopped on {@link #close()}).
 */
public final class Services implements AutoCloseable {
  private static final Duration SERVER_START = Duration.ofMinutes(3);

  private final List<ServerProcess> started = new ArrayList<>();
  private final List<String> policyTargets;
  private final List<String> rewardTargets;
  private final PolicyClient policy;
  private final RewardClient reward;

  private Services(RunConfig config, Path logDir) {
    try {
      ClientOptions options = config.clients().options();
      policyTargets = targets("policy", config.policy(), "dev.ncalign.policy.Main", logDir);
      rewardTargets = targets("reward", config.reward(), "dev.ncalign.reward.Main", logDir);
      policy = new PolicyClient(policyTargets, options);
      reward = new RewardClient(rewardTargets, options);
    } catch (RuntimeException e) {
      started.forEach(ServerProcess::close);
      throw e;
    }
  }

  /**
   * Connects to (or starts) the services of {@code config}; local server logs go to {@code logDir}.
   */
  public static Services open(RunConfig config, Path logDir) {
    return new Services(config, logDir);
  }

  public PolicyClient policy() {
    return policy;
  }

  public RewardClient reward() {
    return reward;
  }

  /** host:port of every policy replica. */
  public List<String> policyTargets() {
    return policyTargets;
  }

  /** host:port of every reward replica. */
  public List<String> rewardTargets() {
    return rewardTargets;
  }

  /** The servers started here (empty when the config names running replicas). */
  public List<ServerProcess> started() {
    return List.copyOf(started);
  }

  private List<String> targets(
      String name, RunConfig.Service service, String mainClass, Path logDir) {
    if (!service.local()) {
      return service.targets();
    }
    ServerProcess server =
        ServerProcess.start(
            name,
            mainClass,
            List.of("--model", service.model().toString()),
            logDir.resolve(name + "-server.log"),
            SERVER_START);
    started.add(server);
    return List.of(server.target());
  }

  @Override
  public void close() {
    policy.close();
    reward.close();
    started.forEach(ServerProcess::close);
  }
}

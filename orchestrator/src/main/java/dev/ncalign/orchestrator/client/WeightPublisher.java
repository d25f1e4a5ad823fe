package dev.ncalign.orchestrator.client;

import dev.ncalign.proto.v1.PolicyInfo;
import java.util.OptionalLong;

/**
 * The one owner of policy version numbers on the orchestrator side: it knows the version the
 * replicas serve, picks the next one, and streams the learner's weights to every replica.
 *
 * <p>Versions only grow: a push after a round is one above both the live version and the version
 * the round sampled from, so a replica that restarted (and reports a lower version) is never handed
 * a number it has served before.
 */
public final class WeightPublisher {
  private final PolicyClient replicas;
  private final WeightSource weights;
  private long liveVersion;

  private WeightPublisher(PolicyClient replicas, WeightSource weights, long liveVersion) {
    this.replicas = replicas;
    this.weights = weights;
    this.liveVersion = liveVersion;
  }

  /**
   * A publisher after making the replicas serve exactly {@code weights}: nothing is pushed when a
   * fresh run finds them on the untouched base model (version 1); otherwise (a resumed run, or
   * replicas that served another run) the weights are pushed above every version seen.
   *
   * @param resumedVersion the live version a resumed run recorded in its checkpoint
   */
  public static WeightPublisher synchronize(
      PolicyClient replicas, WeightSource weights, OptionalLong resumedVersion) {
    long live = replicas.info().stream().mapToLong(PolicyInfo::getLiveVersion).max().orElse(1);
    WeightPublisher publisher = new WeightPublisher(replicas, weights, live);
    if (resumedVersion.isPresent() || live != 1) {
      publisher.push(Math.max(live + 1, resumedVersion.orElse(0)));
    }
    return publisher;
  }

  /** A publisher that trusts the replicas to serve {@code liveVersion} now (tests, tools). */
  public static WeightPublisher at(PolicyClient replicas, WeightSource weights, long liveVersion) {
    return new WeightPublisher(replicas, weights, liveVersion);
  }

  /**
   * Pushes the current weights as the next version.
   *
   * @param sampledVersion the version the round's samples came from (the live one online)
   */
  public Published publish(long sampledVersion) {
    return push(Math.max(liveVersion, sampledVersion) + 1);
  }

  /** The version every replica serves now. */
  public long liveVersion() {
    return liveVersion;
  }

  private Published push(long version) {
    long start = System.nanoTime();
    WeightDigest digest = WeightDigest.of(weights);
    double load = replicas.pushWeights(version, weights, digest).getLoadSeconds();
    liveVersion = version;
    return new Published(version, digest.totalBytes(), (System.nanoTime() - start) / 1e9, load);
  }
}

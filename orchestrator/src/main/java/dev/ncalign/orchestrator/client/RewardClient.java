package dev.ncalign.orchestrator.client;

import dev.ncalign.proto.v1.GetInfoRequest;
import dev.ncalign.proto.v1.RewardInfo;
import dev.ncalign.proto.v1.RewardServiceGrpc;
import dev.ncalign.proto.v1.ScoreItem;
import dev.ncalign.proto.v1.ScoreRequest;
import dev.ncalign.proto.v1.ScoreResponse;
import io.grpc.Channel;
import java.time.Duration;
import java.util.List;

/**
 * The reward replicas as one service: a Score call is split into slices no larger than the servers'
 * {@code max_items}, at least one per live replica, scored in parallel and put back in order; a
 * slice whose replica fails is re-sent to another. Thread-safe.
 */
public final class RewardClient implements AutoCloseable {

  private final Replicas replicas;
  private volatile RewardInfo limits;

  /**
   * @param targets {@code host:port} of a replica, or {@code dns:///name:port} for every address
   *     the name resolves to (re-resolved while the client runs)
   */
  public RewardClient(List<String> targets, ClientOptions options) {
    this(targets, options, Discovery.Resolver.SYSTEM);
  }

  RewardClient(List<String> targets, ClientOptions options, Discovery.Resolver resolver) {
    this.replicas = new Replicas("reward", targets, options, Replicas.Admission.ANY, resolver);
  }

  /** One reward per item, in order; may contain non-finite values (the model's output as is). */
  public float[] score(List<ScoreItem> items) {
    if (items.isEmpty()) {
      return new float[0];
    }
    List<ScoreResponse> parts =
        replicas.scatter(
            "Score",
            Shards.split(items, replicas.size(), limits().getMaxItems()),
            shard -> channel -> checkedScore(channel, shard));
    float[] rewards = new float[items.size()];
    int offset = 0;
    for (ScoreResponse part : parts) {
      for (int i = 0; i < part.getRewardsCount(); i++) {
        rewards[offset++] = part.getRewards(i);
      }
    }
    return rewards;
  }

  /** The model and limits of one replica (replicas are expected to serve the same model). */
  public RewardInfo info() {
    return replicas.call("GetInfo", RewardClient::getInfo);
  }

  /**
   * True once every replica reports SERVING on the gRPC health service, false if that takes too
   * long.
   */
  public boolean awaitReady(Duration timeout) {
    return replicas.awaitReady(timeout);
  }

  /** Every replica as the client sees it now (no call is made). */
  public List<ReplicaView> replicas() {
    return replicas.views();
  }

  @Override
  public void close() {
    replicas.close();
  }

  private static ScoreResponse checkedScore(Channel channel, List<ScoreItem> shard) {
    ScoreResponse response =
        RewardServiceGrpc.newBlockingStub(channel)
            .score(ScoreRequest.newBuilder().addAllItems(shard).build());
    if (response.getRewardsCount() != shard.size()) {
      throw new IllegalStateException(
          "reward server answered "
              + response.getRewardsCount()
              + " rewards for "
              + shard.size()
              + " items");
    }
    return response;
  }

  private static RewardInfo getInfo(Channel channel) {
    return RewardServiceGrpc.newBlockingStub(channel).getInfo(GetInfoRequest.getDefaultInstance());
  }

  private RewardInfo limits() {
    RewardInfo known = limits;
    if (known == null) {
      known = info();
      limits = known;
    }
    return known;
  }
}

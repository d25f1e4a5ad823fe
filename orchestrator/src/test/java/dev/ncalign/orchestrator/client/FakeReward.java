package dev.ncalign.orchestrator.client;

import dev.ncalign.proto.v1.GetInfoRequest;
import dev.ncalign.proto.v1.RewardInfo;
import dev.ncalign.proto.v1.RewardServiceGrpc;
import dev.ncalign.proto.v1.ScoreItem;
import dev.ncalign.proto.v1.ScoreRequest;
import dev.ncalign.proto.v1.ScoreResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A reward replica whose reward is the response length; it can fail its next calls with
 * UNAVAILABLE.
 */
final class FakeReward extends RewardServiceGrpc.RewardServiceImplBase {

  final int maxItems;
  final List<Integer> batches = new CopyOnWriteArrayList<>();
  final AtomicInteger unavailableCalls = new AtomicInteger();

  FakeReward(int maxItems) {
    this.maxItems = maxItems;
  }

  @Override
  public void score(ScoreRequest request, StreamObserver<ScoreResponse> out) {
    if (unavailableCalls.getAndDecrement() > 0) {
      out.onError(Status.UNAVAILABLE.withDescription("busy").asRuntimeException());
      return;
    }
    if (maxItems > 0 && request.getItemsCount() > maxItems) {
      out.onError(Status.INVALID_ARGUMENT.withDescription("too many items").asRuntimeException());
      return;
    }
    batches.add(request.getItemsCount());
    ScoreResponse.Builder response = ScoreResponse.newBuilder();
    for (ScoreItem item : request.getItemsList()) {
      response.addRewards(item.getResponse().length()).addTruncated(false);
    }
    out.onNext(response.build());
    out.onCompleted();
  }

  @Override
  public void getInfo(GetInfoRequest request, StreamObserver<RewardInfo> out) {
    out.onNext(RewardInfo.newBuilder().setModelSha256("abc").setMaxItems(maxItems).build());
    out.onCompleted();
  }
}

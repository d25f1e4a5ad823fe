package dev.ncalign.reward.serving;

import dev.ncalign.proto.v1.GetInfoRequest;
import dev.ncalign.proto.v1.RewardInfo;
import dev.ncalign.proto.v1.RewardServiceGrpc;
import dev.ncalign.proto.v1.ScoreRequest;
import dev.ncalign.proto.v1.ScoreResponse;
import dev.ncalign.reward.model.OnnxRewardModel;
import dev.ncalign.serving.ServiceCalls;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;

/**
 * The gRPC face of {@link RewardScorer}, a thin adapter: validates a request ({@link
 * ScoreRequestValidator}), hands plain items to the scorer, maps the result back to protobuf and
 * failures to a status ({@link ServiceCalls}). Rewards are returned as the model produced them,
 * non-finite ones included.
 */
final class RewardGrpcService extends RewardServiceGrpc.RewardServiceImplBase {

  private final RewardScorer scorer;
  private final ScoreRequestValidator validator;

  RewardGrpcService(RewardScorer scorer, ScoreRequestValidator validator) {
    this.scorer = scorer;
    this.validator = validator;
  }

  @Override
  public void score(ScoreRequest request, StreamObserver<ScoreResponse> responses) {
    CompletableFuture<ScoreResponse> scored;
    try {
      // Tokenizing runs on this thread, the model runs on the batcher's.
      scored = scorer.score(validator.items(request)).thenApply(this::response);
    } catch (RuntimeException e) {
      scored = CompletableFuture.failedFuture(e);
    }
    ServiceCalls.respondWhenDone(responses, scored);
  }

  private ScoreResponse response(RewardScorer.Scores scores) {
    ScoreResponse.Builder response =
        ScoreResponse.newBuilder().setModelSha256(scorer.model().sha256());
    for (int i = 0; i < scores.rewards().length; i++) {
      response.addRewards(scores.rewards()[i]).addTruncated(scores.truncated()[i]);
    }
    return response.build();
  }

  @Override
  public void getInfo(GetInfoRequest request, StreamObserver<RewardInfo> responses) {
    ServiceCalls.respond(responses, this::info);
  }

  private RewardInfo info() {
    OnnxRewardModel model = scorer.model();
    return RewardInfo.newBuilder()
        .setModelPath(scorer.modelDir().toAbsolutePath().toString())
        .setModelSha256(model.sha256())
        .addAllInputs(model.signature().inputs())
        .addAllOutputs(model.signature().outputs())
        .setLabelIndex(model.labelIndex())
        .setMaxBatchSize(scorer.maxBatchSize())
        .setMaxItems(validator.maxItems())
        .setMaxLength(scorer.encoder().maxLength())
        .setNonFiniteCount(scorer.nonFiniteCount())
        .setMaxChars(validator.text().maxChars())
        .build();
  }
}

package dev.ncalign.reward;

import dev.ncalign.proto.v1.GetInfoRequest;
import dev.ncalign.proto.v1.RewardInfo;
import dev.ncalign.proto.v1.RewardServiceGrpc;
import dev.ncalign.proto.v1.ScoreItem;
import dev.ncalign.proto.v1.ScoreRequest;
import dev.ncalign.proto.v1.ScoreResponse;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC face of {@link RewardScorer}: validates a request (INVALID_ARGUMENT naming the field),
 * hands plain items to the scorer, and maps the result back to protobuf. Rewards are returned as
 * the model produced them, non-finite ones included.
 */
public final class RewardService extends RewardServiceGrpc.RewardServiceImplBase {

  private static final Logger LOG = LoggerFactory.getLogger(RewardService.class);

  private final RewardScorer scorer;
  private final int maxItems;
  private final int maxChars;

  /** Serves {@code scorer} with these per-request limits. */
  public RewardService(RewardScorer scorer, int maxItems, int maxChars) {
    this.scorer = scorer;
    this.maxItems = maxItems;
    this.maxChars = maxChars;
  }

  @Override
  public void score(ScoreRequest request, StreamObserver<ScoreResponse> responses) {
    List<RewardScorer.Item> items;
    try {
      items = validate(request);
    } catch (StatusException e) {
      responses.onError(e);
      return;
    }
    CompletableFuture<RewardScorer.Scores> scored;
    try {
      scored = scorer.score(items);
    } catch (RuntimeException e) {
      // Tokenization runs on this thread; a failure there is the server's, not the caller's.
      LOG.error("encoding failed", e);
      responses.onError(
          Status.INTERNAL.withDescription("encoding failed: " + e.getMessage()).asException());
      return;
    }
    scored.whenComplete(
        (scores, error) -> {
          if (error != null) {
            LOG.error("scoring failed", error);
            responses.onError(
                Status.INTERNAL
                    .withDescription("scoring failed: " + error.getMessage())
                    .withCause(error)
                    .asException());
            return;
          }
          ScoreResponse.Builder response =
              ScoreResponse.newBuilder().setModelSha256(scorer.model().sha256());
          for (int i = 0; i < scores.rewards().length; i++) {
            response.addRewards(scores.rewards()[i]).addTruncated(scores.truncated()[i]);
          }
          responses.onNext(response.build());
          responses.onCompleted();
        });
  }

  @Override
  public void getInfo(GetInfoRequest request, StreamObserver<RewardInfo> responses) {
    OnnxRewardModel model = scorer.model();
    responses.onNext(
        RewardInfo.newBuilder()
            .setModelPath(scorer.modelDir().toAbsolutePath().toString())
            .setModelSha256(model.sha256())
            .addAllInputs(model.signature().inputs())
            .addAllOutputs(model.signature().outputs())
            .setLabelIndex(model.labelIndex())
            .setMaxBatchSize(scorer.maxBatchSize())
            .setMaxItems(maxItems)
            .setMaxLength(scorer.encoder().maxLength())
            .setNonFiniteCount(scorer.nonFiniteCount())
            .build());
    responses.onCompleted();
  }

  private List<RewardScorer.Item> validate(ScoreRequest request) throws StatusException {
    int count = request.getItemsCount();
    if (count == 0) {
      throw invalid("items: must not be empty");
    }
    if (count > maxItems) {
      throw invalid("items: " + count + " items exceed the limit of " + maxItems);
    }
    List<RewardScorer.Item> items = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      ScoreItem item = request.getItems(i);
      checkLength("items[" + i + "].prompt", item.getPrompt());
      checkLength("items[" + i + "].response", item.getResponse());
      items.add(new RewardScorer.Item(item.getPrompt(), item.getResponse()));
    }
    return items;
  }

  private void checkLength(String field, String value) throws StatusException {
    if (value.length() > maxChars) {
      throw invalid(field + ": " + value.length() + " characters exceed the limit of " + maxChars);
    }
  }

  private static StatusException invalid(String message) {
    return Status.INVALID_ARGUMENT.withDescription(message).asException();
  }
}

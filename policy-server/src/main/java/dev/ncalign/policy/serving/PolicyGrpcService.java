package dev.ncalign.policy.serving;

import dev.ncalign.proto.v1.GenerateRequest;
import dev.ncalign.proto.v1.GenerateResponse;
import dev.ncalign.proto.v1.GetInfoRequest;
import dev.ncalign.proto.v1.LogprobsRequest;
import dev.ncalign.proto.v1.LogprobsResponse;
import dev.ncalign.proto.v1.PolicyInfo;
import dev.ncalign.proto.v1.PolicyServiceGrpc;
import dev.ncalign.proto.v1.PushWeightsResponse;
import dev.ncalign.proto.v1.WeightChunk;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC face of {@link Policy}: runs each call, and maps failures to a Status whose description
 * says what was wrong (INVALID_ARGUMENT naming the field, FAILED_PRECONDITION for a stale weight
 * version, CANCELLED when the client gave up, INTERNAL otherwise).
 */
final class PolicyGrpcService extends PolicyServiceGrpc.PolicyServiceImplBase {

  private static final Logger LOG = LoggerFactory.getLogger(PolicyGrpcService.class);

  private final Policy policy;

  PolicyGrpcService(Policy policy) {
    this.policy = policy;
  }

  @Override
  public void generate(GenerateRequest request, StreamObserver<GenerateResponse> observer) {
    // Cancelled on client cancellation and when the deadline passes; polled between decode steps.
    Context context = Context.current();
    respond(
        observer,
        () -> {
          GenerateResponse response = policy.generate(request, context::isCancelled);
          if (context.isCancelled()) {
            throw Status.CANCELLED
                .withDescription("call cancelled or deadline exceeded")
                .asRuntimeException();
          }
          return response;
        });
  }

  @Override
  public void computeLogprobs(LogprobsRequest request, StreamObserver<LogprobsResponse> observer) {
    respond(observer, () -> policy.computeLogprobs(request));
  }

  @Override
  public void getInfo(GetInfoRequest request, StreamObserver<PolicyInfo> observer) {
    respond(observer, policy::info);
  }

  @Override
  public StreamObserver<WeightChunk> pushWeights(StreamObserver<PushWeightsResponse> observer) {
    return new StreamObserver<>() {
      private final WeightUpload upload = new WeightUpload(policy.maxWeightBytes());
      private boolean failed;

      @Override
      public void onNext(WeightChunk chunk) {
        if (failed) {
          return;
        }
        try {
          upload.accept(chunk);
        } catch (RuntimeException e) {
          failed = true;
          upload.close();
          observer.onError(toStatus(e).asRuntimeException());
        }
      }

      @Override
      public void onError(Throwable t) {
        upload.close();
      }

      @Override
      public void onCompleted() {
        if (!failed) {
          try {
            respond(observer, () -> policy.pushWeights(upload));
          } finally {
            upload.close();
          }
        }
      }
    };
  }

  private static <T> void respond(StreamObserver<T> observer, Supplier<T> call) {
    T response;
    try {
      response = call.get();
    } catch (RuntimeException e) {
      observer.onError(toStatus(e).asRuntimeException());
      return;
    }
    observer.onNext(response);
    observer.onCompleted();
  }

  static Status toStatus(RuntimeException e) {
    if (e instanceof io.grpc.StatusRuntimeException sre) {
      return sre.getStatus();
    }
    if (e instanceof InvalidRequestException || e instanceof IllegalArgumentException) {
      // IllegalArgumentException comes from the model checking pushed weights (it names the
      // tensor).
      return Status.INVALID_ARGUMENT.withDescription(e.getMessage());
    }
    if (e instanceof StaleVersionException || e instanceof BaseReplacedException) {
      return Status.FAILED_PRECONDITION.withDescription(e.getMessage());
    }
    LOG.error("request failed", e);
    return Status.INTERNAL.withDescription(e.toString());
  }
}

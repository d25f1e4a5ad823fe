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
import dev.ncalign.serving.ServiceCalls;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

/**
 * The gRPC face of {@link Policy}, a thin adapter: validates each request ({@link
 * RequestValidator}), runs it on the policy, and maps failures to a status ({@link ServiceCalls}:
 * INVALID_ARGUMENT naming the field, FAILED_PRECONDITION for a stale weight version, CANCELLED when
 * the client gave up, INTERNAL otherwise).
 */
final class PolicyGrpcService extends PolicyServiceGrpc.PolicyServiceImplBase {

  private final Policy policy;
  private final RequestValidator validator;

  PolicyGrpcService(Policy policy) {
    this.policy = policy;
    this.validator = new RequestValidator(policy.limits());
  }

  @Override
  public void generate(GenerateRequest request, StreamObserver<GenerateResponse> observer) {
    // Cancelled on client cancellation and when the deadline passes; polled between decode steps.
    Context context = Context.current();
    ServiceCalls.respond(
        observer,
        () -> {
          validator.check(request);
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
    Context context = Context.current();
    ServiceCalls.respond(
        observer,
        () -> {
          validator.check(request);
          return policy.computeLogprobs(request, context::isCancelled);
        });
  }

  @Override
  public void getInfo(GetInfoRequest request, StreamObserver<PolicyInfo> observer) {
    ServiceCalls.respond(observer, policy::info);
  }

  @Override
  public StreamObserver<WeightChunk> pushWeights(StreamObserver<PushWeightsResponse> observer) {
    return new StreamObserver<>() {
      private final WeightUpload upload = policy.newUpload();
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
          observer.onError(ServiceCalls.toStatus(e).asRuntimeException());
        }
      }

      @Override
      public void onError(Throwable t) {
        upload.close();
      }

      @Override
      public void onCompleted() {
        if (!failed) {
          // Closed before answering: by the time the client hears back, the upload has given up
          // swap priority and generation runs again.
          ServiceCalls.respond(
              observer,
              () -> {
                try {
                  return policy.pushWeights(upload);
                } finally {
                  upload.close();
                }
              });
        }
      }
    };
  }
}

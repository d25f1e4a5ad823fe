package dev.ncalign.reward.metrics;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Counts and times every call of the services it wraps: a Timer {@code ncalign.reward.server.rpc}
 * tagged {@code method} (the bare RPC name, e.g. {@code Score}) and {@code status} (the final gRPC
 * code, e.g. {@code OK}). The queue in front of the model is the batcher's, reported by {@link
 * RewardMetrics}.
 */
public final class RpcMetricsInterceptor implements ServerInterceptor {

  private final MeterRegistry registry;

  /** Records into {@code registry}. */
  public RpcMetricsInterceptor(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getBareMethodName();
    long startNanos = System.nanoTime();
    AtomicBoolean recorded = new AtomicBoolean();
    ServerCall.Listener<Q> listener =
        next.startCall(
            new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
              @Override
              public void close(Status status, Metadata trailers) {
                recordOnce(recorded, method, status.getCode(), startNanos);
                super.close(status, trailers);
              }
            },
            headers);
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onCancel() {
        // The client left (or its deadline passed) first: whatever the server sends later, the
        // client got CANCELLED, and the server may never close the call at all.
        recordOnce(recorded, method, Status.Code.CANCELLED, startNanos);
        super.onCancel();
      }
    };
  }

  private void recordOnce(
      AtomicBoolean recorded, String method, Status.Code code, long startNanos) {
    if (!recorded.compareAndSet(false, true)) {
      return;
    }
    Timer.builder("ncalign.reward.server.rpc")
        .description("RewardService calls by method and final gRPC status")
        .tags("method", method, "status", code.name())
        // Buckets, so latency quantiles aggregate across replicas; a full Score call of 1024
        // items is tens of model runs.
        .publishPercentileHistogram()
        .maximumExpectedValue(Duration.ofMinutes(1))
        .register(registry)
        .record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
  }
}

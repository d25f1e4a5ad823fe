package dev.ncalign.serving;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts and times every call of the services it wraps: a Timer {@code <prefix>.rpc} tagged {@code
 * method} (the bare RPC name, e.g. {@code Generate}) and {@code status} (the final gRPC code, e.g.
 * {@code OK}), and a gauge {@code <prefix>.rpc.in.flight} of calls started and not yet finished,
 * per method. gRPC runs every call on its own executor thread with no queue in front, so calls in
 * flight are the server's queue depth (the reward server's batcher adds its own queue).
 */
public final class RpcMetricsInterceptor implements ServerInterceptor {

  private final MeterRegistry registry;
  private final String rpcName;
  private final String inFlightName;
  private final String service;
  private final Map<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();

  /**
   * Records into {@code registry} under {@code prefix} (e.g. {@code ncalign.policy.server}); {@code
   * service} (e.g. {@code PolicyService}) goes into the meters' descriptions.
   */
  public RpcMetricsInterceptor(MeterRegistry registry, String prefix, String service) {
    this.registry = registry;
    this.rpcName = prefix + ".rpc";
    this.inFlightName = prefix + ".rpc.in.flight";
    this.service = service;
  }

  /** The name of the call timer. */
  public String rpcMeterName() {
    return rpcName;
  }

  /** The name of the calls-in-flight gauge. */
  public String inFlightMeterName() {
    return inFlightName;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    CallRecord record = new CallRecord(call.getMethodDescriptor().getBareMethodName());
    ServerCall.Listener<Q> listener =
        next.startCall(
            new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
              @Override
              public void close(Status status, Metadata trailers) {
                record.finish(status.getCode());
                super.close(status, trailers);
              }
            },
            headers);
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onCancel() {
        // The client left (or its deadline passed) before the server closed the call: the server
        // may never close it, and whatever status it would send, the client got CANCELLED.
        record.finish(Status.Code.CANCELLED);
        super.onCancel();
      }
    };
  }

  private AtomicInteger inFlight(String method) {
    return inFlight.computeIfAbsent(
        method,
        m -> {
          AtomicInteger count = new AtomicInteger();
          Gauge.builder(inFlightName, count, AtomicInteger::get)
              .description(service + " calls started and not yet finished")
              .tag("method", m)
              .register(registry);
          return count;
        });
  }

  /** One call: counted in flight from its start until the first of close and cancel. */
  private final class CallRecord {
    private final String method;
    private final AtomicInteger running;
    private final long startNanos = System.nanoTime();
    private final AtomicBoolean finished = new AtomicBoolean();

    CallRecord(String method) {
      this.method = method;
      this.running = inFlight(method);
      running.incrementAndGet();
    }

    void finish(Status.Code code) {
      if (!finished.compareAndSet(false, true)) {
        return;
      }
      running.decrementAndGet();
      Timer.builder(rpcName)
          .description(service + " calls by method and final gRPC status")
          .tags("method", method, "status", code.name())
          // A bucketed histogram, so latency quantiles can be aggregated across replicas.
          // Generate with many samples can run for minutes; so can a full Score call on a CPU.
          .publishPercentileHistogram()
          .maximumExpectedValue(Duration.ofMinutes(10))
          .register(registry)
          .record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
    }
  }
}

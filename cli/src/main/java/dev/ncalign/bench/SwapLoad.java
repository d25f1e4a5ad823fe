package dev.ncalign.bench;

import dev.ncalign.proto.v1.GenerateRequest;
import dev.ncalign.proto.v1.GenerateResponse;
import dev.ncalign.proto.v1.PolicyServiceGrpc;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Generation traffic: a fixed number of Generate calls kept in flight (each caller issues its next
 * call as soon as the last one ends) until closed, which cancels the calls still running. Async
 * stubs, so 200 callers cost no client threads.
 */
final class SwapLoad implements AutoCloseable {

  private final PolicyServiceGrpc.PolicyServiceStub stub;
  private final GenerateRequest request;
  private final Context.CancellableContext scope = Context.current().withCancellation();
  private final AtomicLong completed = new AtomicLong();
  private final List<String> failures = Collections.synchronizedList(new ArrayList<>());
  private final AtomicLong highestVersion = new AtomicLong();
  private volatile boolean running = true;

  /** Starts {@code callers} callers repeating {@code request}. */
  SwapLoad(ManagedChannel channel, int callers, GenerateRequest request) {
    this.stub = PolicyServiceGrpc.newStub(channel);
    this.request = request;
    for (int i = 0; i < callers; i++) {
      call();
    }
  }

  private void call() {
    scope.run(
        () ->
            stub.withDeadlineAfter(10, TimeUnit.MINUTES)
                .generate(
                    request,
                    new StreamObserver<>() {
                      @Override
                      public void onNext(GenerateResponse value) {
                        completed.incrementAndGet();
                        highestVersion.accumulateAndGet(value.getPolicyVersion(), Math::max);
                      }

                      @Override
                      public void onError(Throwable t) {
                        if (running) {
                          failures.add(Status.fromThrowable(t).toString());
                        }
                      }

                      @Override
                      public void onCompleted() {
                        if (running) {
                          call();
                        }
                      }
                    }));
  }

  /** Generate calls answered so far. */
  long completed() {
    return completed.get();
  }

  /** The newest policy version any answer carried. */
  long highestVersion() {
    return highestVersion.get();
  }

  /** Calls that failed while the load was running (cancellations at close do not count). */
  List<String> failures() {
    synchronized (failures) {
      return List.copyOf(failures);
    }
  }

  /** Stops issuing calls and cancels those in flight. */
  @Override
  public void close() {
    running = false;
    scope.cancel(null);
  }
}

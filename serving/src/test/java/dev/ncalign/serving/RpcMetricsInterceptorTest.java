package dev.ncalign.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A call the client abandons counts once, as CANCELLED, even when the server closes it afterwards.
 */
class RpcMetricsInterceptorTest {

  private static final String RPC = "test.server.rpc";

  @Test
  void cancelledCallCountsOnceAsCancelled() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    CompletableFuture<StreamObserver<HealthCheckResponse>> held = new CompletableFuture<>();
    CountDownLatch cancelled = new CountDownLatch(1);
    HealthGrpc.HealthImplBase service =
        new HealthGrpc.HealthImplBase() {
          @Override
          public void check(
              HealthCheckRequest request, StreamObserver<HealthCheckResponse> observer) {
            Context.current().addListener(context -> cancelled.countDown(), Runnable::run);
            held.complete(observer); // answered only after the client gave up
          }
        };
    String name = InProcessServerBuilder.generateName();
    Server server =
        InProcessServerBuilder.forName(name)
            .directExecutor()
            .addService(
                ServerInterceptors.intercept(
                    service, new RpcMetricsInterceptor(registry, "test.server", "Health")))
            .build()
            .start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    try {
      Context.CancellableContext call = Context.current().withCancellation();
      call.run(
          () ->
              HealthGrpc.newStub(channel)
                  .check(
                      HealthCheckRequest.getDefaultInstance(),
                      new StreamObserver<>() {
                        @Override
                        public void onNext(HealthCheckResponse value) {}

                        @Override
                        public void onError(Throwable t) {}

                        @Override
                        public void onCompleted() {}
                      }));
      StreamObserver<HealthCheckResponse> observer = held.get(10, TimeUnit.SECONDS);
      assertEquals(1, inFlight(registry));
      call.cancel(null);
      assertTrue(cancelled.await(10, TimeUnit.SECONDS), "the server saw no cancellation");
      observer.onError(Status.INTERNAL.asRuntimeException());

      assertEquals(1, calls(registry, "CANCELLED").count());
      assertNull(registry.find(RPC).tag("status", "INTERNAL").timer());
      assertEquals(0, inFlight(registry));
    } finally {
      channel.shutdownNow();
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static Timer calls(SimpleMeterRegistry registry, String status) {
    return registry.get(RPC).tags("method", "Check", "status", status).timer();
  }

  private static double inFlight(SimpleMeterRegistry registry) {
    return registry.get(RPC + ".in.flight").tag("method", "Check").gauge().value();
  }
}

package dev.ncalign.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Bytes that are not a valid request end the call with INVALID_ARGUMENT before the service runs,
 * and nothing is logged; valid requests pass through unchanged. Raw bytes reach the server through
 * a client-side byte marshaller, as a client with another protobuf library (or none) could send.
 */
class RequestParsingTest {

  private final AtomicInteger served = new AtomicInteger();
  private final ListAppender<ILoggingEvent> log = new ListAppender<>();
  private Server server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws IOException {
    HealthGrpc.HealthImplBase echo =
        new HealthGrpc.HealthImplBase() {
          @Override
          public void check(
              HealthCheckRequest request, StreamObserver<HealthCheckResponse> observer) {
            served.incrementAndGet();
            observer.onNext(
                HealthCheckResponse.newBuilder()
                    .setStatus(
                        request.getService().equals("ok")
                            ? ServingStatus.SERVING
                            : ServingStatus.NOT_SERVING)
                    .build());
            observer.onCompleted();
          }
        };
    String name = InProcessServerBuilder.generateName();
    server =
        InProcessServerBuilder.forName(name)
            .addService(RequestParsing.parseInCall(echo.bindService()))
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).build();
    log.start();
    ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).addAppender(log);
  }

  @AfterEach
  void stop() throws InterruptedException {
    ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).detachAppender(log);
    channel.shutdownNow();
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  @Test
  void aValidRequestIsServedAsBefore() {
    HealthCheckResponse response =
        HealthGrpc.newBlockingStub(channel)
            .check(HealthCheckRequest.newBuilder().setService("ok").build());
    assertEquals(ServingStatus.SERVING, response.getStatus());
    assertEquals(1, served.get());
  }

  @Test
  void invalidUtf8InAStringFieldIsInvalidArgument() {
    // Field 1 (service), wire type 2, 2 bytes: 0xC3 0x28 is not UTF-8 (a lead byte without its
    // continuation).
    byte[] message = {0x0A, 0x02, (byte) 0xC3, 0x28};
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> sendRaw(message));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains("Check"), e.getStatus().getDescription());
    assertTrue(e.getStatus().getDescription().contains("UTF-8"), e.getStatus().getDescription());
    assertEquals(0, served.get(), "the service never saw the request");
    assertEquals(0, log.list.size(), () -> "logged: " + log.list);
  }

  @Test
  void truncatedBytesAreInvalidArgument() {
    // Field 1 announces 10 bytes and brings 2.
    byte[] message = {0x0A, 0x0A, 'o', 'k'};
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> sendRaw(message));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertTrue(
        e.getStatus().getDescription().startsWith("request is not a valid Check message"),
        e.getStatus().getDescription());
    assertEquals(0, served.get());
    assertEquals(0, log.list.size(), () -> "logged: " + log.list);
  }

  @Test
  void theRebuiltServiceKeepsItsNameAndSchema() {
    var original = HealthGrpc.getServiceDescriptor();
    var rebuilt = RequestParsing.parseInCall(new HealthGrpc.HealthImplBase() {}.bindService());
    assertEquals(original.getName(), rebuilt.getServiceDescriptor().getName());
    assertEquals(
        original.getSchemaDescriptor(), rebuilt.getServiceDescriptor().getSchemaDescriptor());
    assertEquals(original.getMethods().size(), rebuilt.getMethods().size());
  }

  private HealthCheckResponse sendRaw(byte[] message) {
    return RawRequests.call(channel, HealthGrpc.getCheckMethod(), message);
  }
}

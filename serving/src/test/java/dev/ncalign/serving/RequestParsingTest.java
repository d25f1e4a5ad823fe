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
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
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
  private final List<LogRecord> grpcLog = new CopyOnWriteArrayList<>();

  /** grpc-java logs through java.util.logging; this collects its warnings and errors. */
  private final Handler grpcHandler =
      new Handler() {
        @Override
        public void publish(LogRecord record) {
          if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
            grpcLog.add(record);
          }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };

  private final HealthGrpc.HealthImplBase echo =
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

  private Server server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws IOException {
    java.util.logging.Logger.getLogger("").addHandler(grpcHandler);
    log.start();
    ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).addAppender(log);
    serve(RequestParsing.parseInCall(echo.bindService()));
  }

  private void serve(io.grpc.ServerServiceDefinition service) throws IOException {
    if (server != null) {
      channel.shutdownNow();
      server.shutdownNow();
    }
    String name = InProcessServerBuilder.generateName();
    server = InProcessServerBuilder.forName(name).addService(service).build().start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  @AfterEach
  void stop() throws InterruptedException {
    ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).detachAppender(log);
    java.util.logging.Logger.getLogger("").removeHandler(grpcHandler);
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
    assertNothingLogged();
  }

  @Test
  void withoutParsingInTheCallTheSameBytesAreUnknownAndAStackTrace() throws Exception {
    // What RequestParsing is for: grpc-java's own handling of a request it cannot parse.
    serve(echo.bindService());
    byte[] message = {0x0A, 0x02, (byte) 0xC3, 0x28};
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> sendRaw(message));
    assertEquals(Status.Code.UNKNOWN, e.getStatus().getCode());
    // Logged on the server's executor just after the call closed.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (grpcLog.stream().noneMatch(r -> r.getThrown() != null) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertTrue(
        grpcLog.stream().anyMatch(r -> r.getThrown() != null),
        "grpc-java logged no exception: " + grpcLog);
  }

  private void assertNothingLogged() {
    // Where grpc-java logs a failed call, it does so just after closing it: give it the time it
    // takes in the test above.
    try {
      Thread.sleep(500);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    assertTrue(
        log.list.stream()
            .noneMatch(
                event -> event.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.WARN)),
        () -> "logged: " + log.list);
    assertEquals(List.of(), grpcLog, "grpc-java logged");
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
    assertNothingLogged();
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

package dev.ncalign.serving;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCalls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shell around a one-method echo service: health, the bearer token on the methods it guards,
 * RPC metrics (refused calls included), and an HTTP endpoint that serves {@code GET /metrics} only.
 */
class GrpcServerShellTest {

  private static final MethodDescriptor<byte[], byte[]> ECHO =
      MethodDescriptor.newBuilder(RequestParsing.RAW_BYTES, RequestParsing.RAW_BYTES)
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName("test.Echo/Echo")
          .build();
  private static final MethodDescriptor<byte[], byte[]> SECRET =
      ECHO.toBuilder().setFullMethodName("test.Echo/Secret").build();

  private static final ServerServiceDefinition SERVICE =
      ServerServiceDefinition.builder("test.Echo")
          .addMethod(ECHO, ServerCalls.asyncUnaryCall(GrpcServerShellTest::echo))
          .addMethod(SECRET, ServerCalls.asyncUnaryCall(GrpcServerShellTest::echo))
          .build();

  @TempDir Path tmp;

  @Test
  void servesHealthCountsCallsAndServesOnlyGetMetrics() throws Exception {
    var meters = GrpcServerShell.newMeterRegistry();
    try (GrpcServerShell shell =
        GrpcServerShell.start(
            ShellOptions.defaults().withMetricsPort(0),
            SERVICE,
            null,
            new RpcMetricsInterceptor(meters, "test.server", "Echo"),
            meters,
            Duration.ofSeconds(1))) {
      assertTrue(shell.metricsPort() > 0 && shell.metricsPort() != shell.port());
      ManagedChannel channel = channel(shell.port());
      try {
        assertArrayEquals(new byte[] {1, 2}, call(channel, ECHO, new byte[] {1, 2}));
        assertEquals(
            ServingStatus.SERVING,
            HealthGrpc.newBlockingStub(channel)
                .check(HealthCheckRequest.newBuilder().setService("test.Echo").build())
                .getStatus());
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      PrometheusSamples metrics = MetricsScrapes.scrape(shell.metricsPort());
      assertEquals(
          1, metrics.value("test_server_rpc_seconds_count", "method", "Echo", "status", "OK"));
      assertEquals(0, metrics.value("test_server_rpc_in_flight", "method", "Echo"));
      assertTrue(metrics.has("jvm_memory_used_bytes"), "JVM memory");
      assertEquals(404, MetricsScrapes.get(shell.metricsPort(), "/metrics/extra").statusCode());
      assertEquals(404, MetricsScrapes.get(shell.metricsPort(), "/").statusCode());
      assertEquals(405, MetricsScrapes.post(shell.metricsPort(), "/metrics").statusCode());
    }
  }

  @Test
  void theTokenGuardsTheNamedMethodsAndRefusalsAreCounted() throws Exception {
    Path tokenFile = Files.writeString(tmp.resolve("token"), "s3cret\n");
    var meters = GrpcServerShell.newMeterRegistry();
    BearerTokenInterceptor token =
        BearerTokenInterceptor.fromFile(tokenFile, "--token-file", Set.of("test.Echo/Secret"));
    try (GrpcServerShell shell =
        GrpcServerShell.start(
            ShellOptions.defaults(),
            SERVICE,
            token,
            new RpcMetricsInterceptor(meters, "test.server", "Echo"),
            meters,
            Duration.ofSeconds(1))) {
      assertEquals(ShellOptions.METRICS_OFF, shell.metricsPort(), "metrics are off by default");
      ManagedChannel channel = channel(shell.port());
      try {
        assertArrayEquals(new byte[] {3}, call(channel, ECHO, new byte[] {3}), "not guarded");
        StatusRuntimeException refused =
            assertThrows(StatusRuntimeException.class, () -> call(channel, SECRET, new byte[0]));
        assertEquals(Status.Code.UNAUTHENTICATED, refused.getStatus().getCode());
        assertTrue(
            refused.getStatus().getDescription().startsWith("Secret needs"),
            refused.getStatus().getDescription());
        Metadata headers = new Metadata();
        headers.put(BearerTokenInterceptor.AUTHORIZATION, "Bearer s3cret");
        var authorised =
            io.grpc.ClientInterceptors.intercept(
                channel, MetadataUtils.newAttachHeadersInterceptor(headers));
        assertArrayEquals(new byte[] {4}, call(authorised, SECRET, new byte[] {4}));
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      assertEquals(
          1,
          meters
              .get("test.server.rpc")
              .tags("method", "Secret", "status", "UNAUTHENTICATED")
              .timer()
              .count());
    }
  }

  @Test
  void badOptionsNameTheFlag() {
    IllegalArgumentException tls =
        assertThrows(
            IllegalArgumentException.class,
            () -> ShellOptions.defaults().withTls(tmp.resolve("cert.pem"), null));
    assertTrue(tls.getMessage().contains("--tls-key"), tls.getMessage());
    IllegalArgumentException port =
        assertThrows(IllegalArgumentException.class, () -> ShellOptions.defaults().withPort(70000));
    assertTrue(port.getMessage().startsWith("--port"), port.getMessage());
    IllegalArgumentException empty =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                BearerTokenInterceptor.fromFile(
                    Files.writeString(tmp.resolve("empty"), " \n"), "--token-file", Set.of()));
    assertTrue(empty.getMessage().startsWith("--token-file"), empty.getMessage());
  }

  private static void echo(byte[] request, io.grpc.stub.StreamObserver<byte[]> response) {
    response.onNext(request);
    response.onCompleted();
  }

  private static byte[] call(
      io.grpc.Channel channel, MethodDescriptor<byte[], byte[]> method, byte[] message) {
    return ClientCalls.blockingUnaryCall(
        channel,
        method,
        io.grpc.CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
        message);
  }

  private static ManagedChannel channel(int port) {
    return Grpc.newChannelBuilderForAddress("127.0.0.1", port, InsecureChannelCredentials.create())
        .build();
  }
}

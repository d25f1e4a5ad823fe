package dev.ncalign.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ncalign.lm.model.TestModels;
import dev.ncalign.proto.v1.GetInfoRequest;
import dev.ncalign.proto.v1.PolicyInfo;
import dev.ncalign.proto.v1.PolicyServiceGrpc;
import dev.ncalign.serving.MetricsScrapes;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The command line as a parent process uses it: start with --port 0 and --metrics-port 0, read both
 * ports from stdout, call the server and scrape its metrics.
 */
class MainTest {

  @Test
  void startsOnAFreePortAndAnnouncesIt() throws Exception {
    Path model = TestModels.tinyDir();
    Process process =
        new ProcessBuilder(
                List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Dai.djl.offline=true",
                    "-Dai.djl.pytorch.num_threads=1",
                    "-cp",
                    System.getProperty("java.class.path"),
                    Main.class.getName(),
                    "--model",
                    model.toString(),
                    "--port",
                    "0",
                    "--max-num-samples",
                    "5",
                    "--metrics-port",
                    "0"))
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    try {
      BufferedReader stdout =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      String line = stdout.readLine();
      assertNotNull(line, "the server exited without announcing a port");
      Matcher m = Pattern.compile("listening on port (\\d+)").matcher(line);
      assertTrue(m.matches(), line);
      Matcher metricsLine =
          Pattern.compile("metrics on port (\\d+)").matcher(String.valueOf(stdout.readLine()));
      assertTrue(metricsLine.matches(), metricsLine.toString());
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("127.0.0.1", Integer.parseInt(m.group(1)))
              .usePlaintext()
              .build();
      try {
        PolicyInfo info =
            PolicyServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS)
                .getInfo(GetInfoRequest.getDefaultInstance());
        assertEquals(5, info.getMaxNumSamples());
        assertEquals(model.toAbsolutePath().toString(), info.getModelPath());
        HealthCheckResponse health =
            HealthGrpc.newBlockingStub(channel)
                .check(
                    HealthCheckRequest.newBuilder()
                        .setService(PolicyServiceGrpc.SERVICE_NAME)
                        .build());
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, health.getStatus());
        assertTrue(reflectedServices(channel).contains(PolicyServiceGrpc.SERVICE_NAME));
        assertEquals(
            1,
            MetricsScrapes.scrape(Integer.parseInt(metricsLine.group(1)))
                .value(
                    "ncalign_policy_server_rpc_seconds_count",
                    "method",
                    "GetInfo",
                    "status",
                    "OK"));
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    } finally {
      process.destroy();
      assertTrue(process.waitFor(30, TimeUnit.SECONDS), "server did not stop on SIGTERM");
    }
  }

  /** Service names listed by the gRPC reflection service. */
  private static List<String> reflectedServices(ManagedChannel channel) throws Exception {
    CompletableFuture<List<String>> names = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> requests =
        ServerReflectionGrpc.newStub(channel)
            .serverReflectionInfo(
                new StreamObserver<ServerReflectionResponse>() {
                  @Override
                  public void onNext(ServerReflectionResponse response) {
                    names.complete(
                        response.getListServicesResponse().getServiceList().stream()
                            .map(ServiceResponse::getName)
                            .toList());
                  }

                  @Override
                  public void onError(Throwable t) {
                    names.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {}
                });
    requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
    requests.onCompleted();
    return names.get(30, TimeUnit.SECONDS);
  }
}

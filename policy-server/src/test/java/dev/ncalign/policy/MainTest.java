package dev.ncalign.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ncalign.lm.model.TestModels;
import dev.ncalign.proto.v1.GetInfoRequest;
import dev.ncalign.proto.v1.PolicyInfo;
import dev.ncalign.proto.v1.PolicyServiceGrpc;
import dev.ncalign.serving.ChildServer;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The command line as a parent process uses it: start with --port 0 and --metrics-port 0, read both
 * ports from stdout, call the server and scrape its metrics.
 */
class MainTest {

  @Test
  void startsOnAFreePortAndAnnouncesIt() throws Exception {
    Path model = TestModels.tinyDir();
    try (ChildServer server =
        ChildServer.start(
            Main.class,
            TestModels.tempDir("main").resolve("stderr.txt"),
            "--model",
            model.toString(),
            "--port",
            "0",
            "--max-num-samples",
            "5",
            "--metrics-port",
            "0")) {
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
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
            MetricsScrapes.scrape(server.metricsPort())
                .value(
                    "ncalign_policy_server_rpc_seconds_count",
                    "method",
                    "GetInfo",
                    "status",
                    "OK"));
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void aBadModelDirectoryIsOneLineAndANonZeroExit() throws Exception {
    Path model = TestModels.tempDir("bad-model");
    for (String file : List.of("config.json", "tokenizer.json", "model.safetensors")) {
      Files.copy(TestModels.tinyDir().resolve(file), model.resolve(file));
    }
    String config = Files.readString(model.resolve("config.json"));
    Files.writeString(
        model.resolve("config.json"), config.replaceFirst("\"hidden_size\"", "\"hidden_width\""));
    Process process =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.offline=true",
                "-Dai.djl.pytorch.num_threads=1",
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName(),
                "--model",
                model.toString())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(60, TimeUnit.SECONDS));
    assertEquals(2, process.exitValue(), stderr);
    assertTrue(
        stderr.contains(
            "policy-server: "
                + model.resolve("config.json")
                + ": missing integer field 'hidden_size'\n"),
        stderr);
    assertFalse(stderr.contains("\tat "), "no stack trace: " + stderr);
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

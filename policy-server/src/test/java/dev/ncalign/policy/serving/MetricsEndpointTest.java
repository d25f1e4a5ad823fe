package dev.ncalign.policy.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ncalign.lm.model.TestModels;
import dev.ncalign.proto.v1.GenerateRequest;
import dev.ncalign.proto.v1.GenerateResponse;
import dev.ncalign.proto.v1.LogprobsItem;
import dev.ncalign.proto.v1.LogprobsRequest;
import dev.ncalign.proto.v1.PolicyServiceGrpc;
import dev.ncalign.proto.v1.SamplingParams;
import dev.ncalign.serving.MetricsScrapes;
import dev.ncalign.serving.PrometheusSamples;
import dev.ncalign.serving.ShellOptions;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The server with metrics on a free port: after a few Generate and ComputeLogprobs calls, one good
 * push and one bad one, {@code GET /metrics} reports each of them, and the run queue.
 */
class MetricsEndpointTest {

  @Test
  void metricsReportCallsBatchesVersionsAndSwaps() throws Exception {
    PolicyServerOptions options =
        PolicyServerOptions.defaults(TestModels.tinyDir()).withMetricsPort(0);
    try (PolicyServer server = PolicyServer.start(options)) {
      assertTrue(
          server.metricsPort() > 0 && server.metricsPort() != server.port(),
          "metrics port " + server.metricsPort());
      ManagedChannel channel = ServingFixtures.channel(server.port());
      PolicyServiceGrpc.PolicyServiceBlockingStub stub = PolicyServiceGrpc.newBlockingStub(channel);
      SamplingParams sampling =
          SamplingParams.newBuilder().setMaxNewTokens(4).setTemperature(1f).setSeed(5).build();
      GenerateResponse twoByThree =
          stub.generate(
              GenerateRequest.newBuilder()
                  .addPrompts("the cat")
                  .addPrompts("a dog")
                  .setNumSamples(3)
                  .setSampling(sampling)
                  .build());
      GenerateResponse oneByOne =
          stub.generate(
              GenerateRequest.newBuilder()
                  .addPrompts("the")
                  .setNumSamples(1)
                  .setSampling(sampling)
                  .build());
      assertThrows(
          StatusRuntimeException.class,
          () ->
              stub.generate(
                  GenerateRequest.newBuilder().addPrompts("the").setNumSamples(0).build()));
      stub.computeLogprobs(
          LogprobsRequest.newBuilder()
              .addItems(LogprobsItem.newBuilder().setPrompt("the").setResponse("cat"))
              .build());
      byte[] weights = ServingFixtures.weights(11);
      ServingFixtures.push(channel, 2, weights);
      assertThrows(
          StatusRuntimeException.class,
          () ->
              ServingFixtures.push(
                  channel,
                  null,
                  3,
                  weights,
                  weights.length,
                  ServingFixtures.sha256(new byte[] {1})));
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);

      PrometheusSamples metrics = MetricsScrapes.scrape(server.metricsPort());

      String calls = "ncalign_policy_server_rpc_seconds_count";
      assertEquals(2, metrics.value(calls, "method", "Generate", "status", "OK"));
      assertEquals(1, metrics.value(calls, "method", "Generate", "status", "INVALID_ARGUMENT"));
      assertEquals(1, metrics.value(calls, "method", "ComputeLogprobs", "status", "OK"));
      assertEquals(1, metrics.value(calls, "method", "PushWeights", "status", "OK"));
      assertEquals(1, metrics.value(calls, "method", "PushWeights", "status", "INVALID_ARGUMENT"));
      assertTrue(metrics.has("ncalign_policy_server_rpc_seconds_bucket"), "latency histogram");
      assertEquals(0, metrics.value("ncalign_policy_server_rpc_in_flight", "method", "Generate"));

      assertEquals(2, metrics.value("ncalign_policy_server_generate_batch_size_count"));
      assertEquals(2 * 3 + 1, metrics.value("ncalign_policy_server_generate_batch_size_sum"));
      assertEquals(
          1, metrics.value("ncalign_policy_server_generate_batch_size_bucket", "le", "1.0"));
      assertEquals(
          2, metrics.value("ncalign_policy_server_generate_batch_size_bucket", "le", "8.0"));
      assertEquals(
          tokens(twoByThree) + tokens(oneByOne),
          metrics.value("ncalign_policy_server_generated_tokens_total"));

      assertEquals(2, metrics.value("ncalign_policy_server_live_version"));
      assertEquals(1, metrics.value("ncalign_policy_server_swap_seconds_count", "outcome", "ok"));
      assertEquals(
          1, metrics.value("ncalign_policy_server_swap_seconds_count", "outcome", "rejected"));
      // Both complete push streams were received; the two Generate calls and the ComputeLogprobs
      // call were admitted by the run queue (the invalid Generate never reached it), which is now
      // empty.
      assertEquals(2, metrics.value("ncalign_policy_server_push_receive_seconds_count"));
      assertEquals(3, metrics.value("ncalign_policy_server_queue_wait_seconds_count"));
      assertEquals(0, metrics.value("ncalign_policy_server_queue_waiting"));
      assertEquals(0, metrics.value("ncalign_policy_server_queue_running"));
      assertTrue(metrics.has("jvm_memory_used_bytes"), "JVM memory");
    }
  }

  @Test
  void callsRefusedForAMissingTokenAreCounted() throws Exception {
    Path tokenFile = Files.createTempFile("token", ".txt");
    Files.writeString(tokenFile, "s3cret");
    PolicyServerOptions options =
        PolicyServerOptions.defaults(TestModels.tinyDir())
            .withPushTokenFile(tokenFile)
            .withMetricsPort(0);
    try (PolicyServer server = PolicyServer.start(options)) {
      ManagedChannel channel = ServingFixtures.channel(server.port());
      byte[] weights = ServingFixtures.weights(12);
      assertThrows(StatusRuntimeException.class, () -> ServingFixtures.push(channel, 2, weights));
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      PrometheusSamples metrics = MetricsScrapes.scrape(server.metricsPort());
      assertEquals(
          1,
          metrics.value(
              "ncalign_policy_server_rpc_seconds_count",
              "method",
              "PushWeights",
              "status",
              "UNAUTHENTICATED"));
      assertEquals(
          0, metrics.value("ncalign_policy_server_swap_seconds_count", "outcome", "rejected"));
    }
  }

  @Test
  void metricsAreOffByDefault() {
    try (PolicyServer server =
        PolicyServer.start(PolicyServerOptions.defaults(TestModels.tinyDir()))) {
      assertEquals(ShellOptions.METRICS_OFF, server.metricsPort());
    }
  }

  private static long tokens(GenerateResponse response) {
    return response.getCompletionsList().stream().mapToLong(c -> c.getTokenIdsCount()).sum();
  }
}

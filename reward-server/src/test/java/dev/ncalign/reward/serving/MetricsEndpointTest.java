package dev.ncalign.reward.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ncalign.proto.v1.GetInfoRequest;
import dev.ncalign.proto.v1.RewardInfo;
import dev.ncalign.proto.v1.RewardServiceGrpc;
import dev.ncalign.proto.v1.RewardServiceGrpc.RewardServiceBlockingStub;
import dev.ncalign.proto.v1.ScoreItem;
import dev.ncalign.proto.v1.ScoreRequest;
import dev.ncalign.proto.v1.ScoreResponse;
import dev.ncalign.reward.model.TinyOnnxModels;
import dev.ncalign.serving.MetricsScrapes;
import dev.ncalign.serving.PrometheusSamples;
import dev.ncalign.serving.ShellOptions;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server with metrics on a free port: after good and bad Score calls and a GetInfo, {@code GET
 * /metrics} reports the calls, the model runs, the items and their rewards. The tiny model's reward
 * is the sum of the token ids − 20, so the probes' rewards straddle zero.
 */
class MetricsEndpointTest {

  @TempDir static Path dir;
  private static Path model;

  @BeforeAll
  static void writeModel() throws Exception {
    model = TinyOnnxModels.servable(dir.resolve("model"), 20);
  }

  @Test
  void metricsReportCallsRunsItemsAndRewards() throws Exception {
    // Batches of at most 2: one call's items are queued together, so 3 items run as 2 + 1.
    RewardServerOptions options =
        RewardServerOptions.defaults(model).withBatching(2, 1).withMetricsPort(0);
    try (RewardServer server = RewardServer.start(options)) {
      assertTrue(
          server.metricsPort() > 0 && server.metricsPort() != server.port(),
          "metrics port " + server.metricsPort());
      ManagedChannel channel = channel(server.port());
      RewardServiceBlockingStub stub = RewardServiceGrpc.newBlockingStub(channel);
      ScoreResponse three =
          stub.score(
              // <bos> a <eos> ... <eos>: 2 + 4 + 3 + response ids + 3 − 20.
              request("b", "c d", "d d d"));
      ScoreResponse one = stub.score(request("a b"));
      assertEquals(-3f, three.getRewards(0));
      assertEquals(5f, three.getRewards(1));
      assertEquals(13f, three.getRewards(2));
      assertEquals(1f, one.getRewards(0));
      StatusRuntimeException empty =
          assertThrows(
              StatusRuntimeException.class, () -> stub.score(ScoreRequest.getDefaultInstance()));
      assertEquals(Status.Code.INVALID_ARGUMENT, empty.getStatus().getCode());
      RewardInfo info = stub.getInfo(GetInfoRequest.getDefaultInstance());
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);

      PrometheusSamples metrics = MetricsScrapes.scrape(server.metricsPort());

      String calls = "ncalign_reward_server_rpc_seconds_count";
      assertEquals(2, metrics.value(calls, "method", "Score", "status", "OK"));
      assertEquals(1, metrics.value(calls, "method", "Score", "status", "INVALID_ARGUMENT"));
      assertEquals(1, metrics.value(calls, "method", "GetInfo", "status", "OK"));
      assertTrue(metrics.has("ncalign_reward_server_rpc_seconds_bucket"), "latency histogram");
      assertEquals(0, metrics.value("ncalign_reward_server_rpc_in_flight", "method", "Score"));

      assertEquals(3, metrics.value("ncalign_reward_server_batch_size_count"));
      assertEquals(4, metrics.value("ncalign_reward_server_batch_size_sum"));
      assertEquals(2, metrics.value("ncalign_reward_server_batch_size_bucket", "le", "1.0"));
      assertEquals(3, metrics.value("ncalign_reward_server_batch_size_bucket", "le", "2.0"));
      assertEquals(3, metrics.value("ncalign_reward_server_model_run_seconds_count"));
      assertTrue(
          metrics.has("ncalign_reward_server_model_run_seconds_bucket"), "model-run histogram");
      assertEquals(4, metrics.value("ncalign_reward_server_scored_items_total"));
      assertEquals(0, metrics.value("ncalign_reward_server_queue_depth"));

      float[] rewards = {
        three.getRewards(0), three.getRewards(1), three.getRewards(2), one.getRewards(0)
      };
      double sum = 0;
      int atMostZero = 0;
      for (float reward : rewards) {
        sum += reward;
        atMostZero += reward <= 0 ? 1 : 0;
      }
      assertEquals(4, metrics.value("ncalign_reward_server_reward_count"));
      assertEquals(sum, metrics.value("ncalign_reward_server_reward_sum"), 1e-4);
      assertEquals(atMostZero, metrics.value("ncalign_reward_server_reward_bucket", "le", "0.0"));
      assertTrue(atMostZero > 0 && atMostZero < 4, "the probes straddle zero: " + atMostZero);
      assertEquals(4, metrics.value("ncalign_reward_server_reward_bucket", "le", "+Inf"));
      assertEquals(
          info.getNonFiniteCount(), metrics.value("ncalign_reward_server_nonfinite_rewards_total"));
      assertTrue(metrics.has("jvm_memory_used_bytes"), "JVM memory");
    }
  }

  @Test
  void callsRefusedForAMissingTokenAreCounted(@TempDir Path tmp) throws Exception {
    Path tokenFile = Files.writeString(tmp.resolve("token"), "s3cret");
    RewardServerOptions options =
        RewardServerOptions.defaults(model).withTokenFile(tokenFile).withMetricsPort(0);
    try (RewardServer server = RewardServer.start(options)) {
      ManagedChannel channel = channel(server.port());
      assertThrows(
          StatusRuntimeException.class,
          () -> RewardServiceGrpc.newBlockingStub(channel).score(request("b")));
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      PrometheusSamples metrics = MetricsScrapes.scrape(server.metricsPort());
      assertEquals(
          1,
          metrics.value(
              "ncalign_reward_server_rpc_seconds_count",
              "method",
              "Score",
              "status",
              "UNAUTHENTICATED"));
      assertEquals(0, metrics.value("ncalign_reward_server_scored_items_total"));
    }
  }

  @Test
  void metricsAreOffByDefault() throws Exception {
    try (RewardServer server = RewardServer.start(RewardServerOptions.defaults(model))) {
      assertEquals(ShellOptions.METRICS_OFF, server.metricsPort());
    }
  }

  private static ScoreRequest request(String... responses) {
    ScoreRequest.Builder request = ScoreRequest.newBuilder();
    for (String response : responses) {
      request.addItems(ScoreItem.newBuilder().setPrompt("a").setResponse(response));
    }
    return request.build();
  }

  private static ManagedChannel channel(int port) {
    return Grpc.newChannelBuilderForAddress("127.0.0.1", port, InsecureChannelCredentials.create())
        .build();
  }
}

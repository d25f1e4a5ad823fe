package dev.ncalign.reward;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ncalign.proto.v1.GetInfoRequest;
import dev.ncalign.proto.v1.RewardInfo;
import dev.ncalign.proto.v1.RewardServiceGrpc;
import dev.ncalign.reward.model.TinyOnnxModels;
import dev.ncalign.serving.ChildServer;
import dev.ncalign.serving.MetricsScrapes;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line as a parent process uses it: both ports read from stdout, the flags win over the
 * model directory's defaults and show in GetInfo, the metrics port answers.
 */
class MainTest {

  @Test
  @Timeout(
      value = 120,
      unit = TimeUnit.SECONDS) // a guard against a hung child, not a performance check
  void printsItsPortsOnStdoutAndServesFlagsOverConfig(@TempDir Path tmp) throws Exception {
    Path model = TinyOnnxModels.servable(tmp.resolve("model"), 0);
    try (ChildServer server =
        ChildServer.start(
            Main.class,
            tmp.resolve("stderr.txt"),
            "--model",
            model.toString(),
            "--port",
            "0",
            "--max-length",
            "32",
            "--max-batch-size",
            "8",
            "--max-items",
            "10",
            "--max-chars",
            "300",
            "--metrics-port",
            "0")) {
      ManagedChannel channel =
          Grpc.newChannelBuilderForAddress(
                  "127.0.0.1", server.port(), InsecureChannelCredentials.create())
              .build();
      try {
        RewardInfo info =
            RewardServiceGrpc.newBlockingStub(channel).getInfo(GetInfoRequest.getDefaultInstance());
        assertEquals(32, info.getMaxLength());
        assertEquals(8, info.getMaxBatchSize());
        assertEquals(10, info.getMaxItems());
        assertEquals(300, info.getMaxChars());
      } finally {
        channel.shutdownNow();
      }
      assertEquals(
          1,
          MetricsScrapes.scrape(server.metricsPort())
              .value(
                  "ncalign_reward_server_rpc_seconds_count", "method", "GetInfo", "status", "OK"));
    }
  }
}

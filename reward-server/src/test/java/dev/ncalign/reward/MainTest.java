package dev.ncalign.reward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ncalign.proto.v1.GetInfoRequest;
import dev.ncalign.proto.v1.RewardInfo;
import dev.ncalign.proto.v1.RewardServiceGrpc;
import dev.ncalign.reward.model.TinyOnnxModels;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class MainTest {

  @Test
  @Timeout(
      value = 120,
      unit = TimeUnit.SECONDS) // a guard against a hung child, not a performance check
  void printsItsPortsOnStdoutAndServesFlagsOverConfig(@TempDir Path tmp) throws Exception {
    Path model = TinyOnnxModels.servable(tmp.resolve("model"), 0);
    Path stderr = tmp.resolve("stderr.txt");
    Process process =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName(),
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
                "0")
            .redirectError(stderr.toFile())
            .start();
    try (BufferedReader out =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line = out.readLine();
      assertNotNull(line, () -> "no output; stderr: " + read(stderr));
      Matcher matcher = Pattern.compile("listening on port (\\d+)").matcher(line);
      assertTrue(matcher.matches(), line);
      String metricsLine = String.valueOf(out.readLine());
      assertTrue(metricsLine.matches("metrics on port \\d+"), metricsLine);
      ManagedChannel channel =
          Grpc.newChannelBuilderForAddress(
                  "127.0.0.1",
                  Integer.parseInt(matcher.group(1)),
                  InsecureChannelCredentials.create())
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
    } finally {
      process.destroy();
      process.waitFor(20, TimeUnit.SECONDS);
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      return e.toString();
    }
  }
}

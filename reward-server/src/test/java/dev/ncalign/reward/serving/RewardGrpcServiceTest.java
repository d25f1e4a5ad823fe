package dev.ncalign.reward.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import dev.ncalign.proto.v1.GetInfoRequest;
import dev.ncalign.proto.v1.RewardInfo;
import dev.ncalign.proto.v1.RewardServiceGrpc;
import dev.ncalign.proto.v1.RewardServiceGrpc.RewardServiceBlockingStub;
import dev.ncalign.proto.v1.ScoreItem;
import dev.ncalign.proto.v1.ScoreRequest;
import dev.ncalign.proto.v1.ScoreResponse;
import dev.ncalign.reward.model.TinyOnnxModels;
import dev.ncalign.serving.RawRequests;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service on the tiny model (reward = sum of the token ids): requests are checked before
 * anything is tokenized, a malformed message is INVALID_ARGUMENT, non-finite rewards come back as
 * they are and are counted.
 */
class RewardGrpcServiceTest {

  private static final int MAX_CHARS = 300;

  @TempDir Path tmp;

  @Test
  void textsAreCheckedForLengthBeforeTokenizing() throws Exception {
    RewardServerOptions options =
        RewardServerOptions.defaults(TinyOnnxModels.servable(tmp, 0))
            .withRequestLimits(4, MAX_CHARS);
    try (RewardServer server = RewardServer.start(options)) {
      ManagedChannel channel = channel(server.port());
      try {
        RewardServiceBlockingStub stub = stub(channel);
        RewardInfo info = stub.getInfo(GetInfoRequest.getDefaultInstance());
        assertEquals(MAX_CHARS, info.getMaxChars());
        assertEquals(4, info.getMaxItems());

        // 10 MB of words the tokenizer knows: tokenizing it would take seconds and gigabytes.
        String huge = "a b ".repeat(2_500_000);
        long start = System.nanoTime();
        StatusRuntimeException e =
            assertThrows(StatusRuntimeException.class, () -> stub.score(request("a", huge)));
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals(
            "items[0].response: 10000000 characters exceed the limit of 300",
            e.getStatus().getDescription());
        assertTrue(millis < 5_000, "refused after " + millis + " ms");

        StatusRuntimeException prompt =
            assertThrows(
                StatusRuntimeException.class,
                () ->
                    stub.score(
                        ScoreRequest.newBuilder()
                            .addItems(item("a", "b"))
                            .addItems(item("a".repeat(MAX_CHARS + 1), "b"))
                            .build()));
        assertTrue(
            prompt.getStatus().getDescription().startsWith("items[1].prompt: 301 characters"),
            prompt.getStatus().getDescription());
        StatusRuntimeException tooMany =
            assertThrows(
                StatusRuntimeException.class,
                () -> stub.score(request("a", "b", "c", "d", "a b", "c d")));
        assertEquals("items: 5 items exceed the limit of 4", tooMany.getStatus().getDescription());
        StatusRuntimeException none =
            assertThrows(
                StatusRuntimeException.class, () -> stub.score(ScoreRequest.getDefaultInstance()));
        assertEquals("items: must not be empty", none.getStatus().getDescription());

        // At the limit, scored: <bos> a <eos> b×150 <eos> = 2 + 4 + 3 + 150·5 + 3.
        ScoreResponse atLimit = stub.score(request("a", "b ".repeat(MAX_CHARS / 2)));
        assertEquals(762f, atLimit.getRewards(0));
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void invalidUtf8IsInvalidArgument() throws Exception {
    try (RewardServer server =
        RewardServer.start(RewardServerOptions.defaults(TinyOnnxModels.servable(tmp, 0)))) {
      ManagedChannel channel = channel(server.port());
      try {
        // ScoreRequest{items: [{prompt: "a", response: 0xC3 0x28}]}: a UTF-8 lead byte without its
        // continuation.
        byte[] invalid = scoreRequest((byte) 0xC3, (byte) 0x28);
        StatusRuntimeException e =
            assertThrows(
                StatusRuntimeException.class,
                () -> RawRequests.call(channel, RewardServiceGrpc.getScoreMethod(), invalid));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.toString());
        assertTrue(
            e.getStatus().getDescription().contains("UTF-8"), e.getStatus().getDescription());
        // The same bytes with valid UTF-8 are a good request.
        ScoreResponse valid =
            RawRequests.call(
                channel, RewardServiceGrpc.getScoreMethod(), scoreRequest((byte) 'b', (byte) 'c'));
        assertEquals(2 + 4 + 3 + 1 + 3, valid.getRewards(0), "'bc' is no word: <unk> = 1");
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void nonFiniteRewardsAreReturnedAndCounted() throws Exception {
    Map<String, DataType> inputs = new LinkedHashMap<>();
    inputs.put("input_ids", DataType.INT64);
    inputs.put("attention_mask", DataType.INT64);
    Path dir = TinyOnnxModels.write(tmp, inputs, "logits", true);
    try (RewardServer server = RewardServer.start(RewardServerOptions.defaults(dir))) {
      ManagedChannel channel = channel(server.port());
      try {
        RewardServiceBlockingStub stub = stub(channel);
        ScoreResponse response =
            stub.score(
                ScoreRequest.newBuilder()
                    .addItems(item("a", "b"))
                    .addItems(item("", "c d"))
                    .build());
        assertEquals(Float.POSITIVE_INFINITY, response.getRewards(0));
        assertEquals(Float.POSITIVE_INFINITY, response.getRewards(1));
        RewardInfo info = stub.getInfo(GetInfoRequest.getDefaultInstance());
        assertEquals(2, info.getNonFiniteCount());
        assertEquals(512, info.getMaxLength(), "no reward_config.json: defaults apply");
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  /** A ScoreRequest with one item, prompt "a" and a 2-byte response, written by hand. */
  private static byte[] scoreRequest(byte first, byte second) {
    byte[] item = {0x0A, 0x01, 'a', 0x12, 0x02, first, second};
    byte[] message = new byte[item.length + 2];
    message[0] = 0x0A;
    message[1] = (byte) item.length;
    System.arraycopy(item, 0, message, 2, item.length);
    return message;
  }

  private static ScoreRequest request(String prompt, String... responses) {
    ScoreRequest.Builder request = ScoreRequest.newBuilder();
    for (String response : responses) {
      request.addItems(item(prompt, response));
    }
    return request.build();
  }

  private static ScoreItem item(String prompt, String response) {
    return ScoreItem.newBuilder().setPrompt(prompt).setResponse(response).build();
  }

  private static ManagedChannel channel(int port) {
    return Grpc.newChannelBuilderForAddress("127.0.0.1", port, InsecureChannelCredentials.create())
        .build();
  }

  private static RewardServiceBlockingStub stub(ManagedChannel channel) {
    return RewardServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
  }
}

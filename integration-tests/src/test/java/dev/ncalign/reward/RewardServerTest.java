package dev.ncalign.reward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ncalign.demo.ReviewCorpus;
import dev.ncalign.demo.ReviewCorpus.Sentiment;
import dev.ncalign.proto.v1.GetInfoRequest;
import dev.ncalign.proto.v1.RewardInfo;
import dev.ncalign.proto.v1.RewardServiceGrpc;
import dev.ncalign.proto.v1.RewardServiceGrpc.RewardServiceBlockingStub;
import dev.ncalign.proto.v1.ScoreItem;
import dev.ncalign.proto.v1.ScoreRequest;
import dev.ncalign.proto.v1.ScoreResponse;
import dev.ncalign.reward.model.EncodedInput;
import dev.ncalign.reward.model.OnnxRewardModel;
import dev.ncalign.reward.model.PaddedBatch;
import dev.ncalign.reward.model.RewardEncoder;
import dev.ncalign.reward.model.RewardModelConfig;
import dev.ncalign.reward.serving.RewardServer;
import dev.ncalign.reward.serving.RewardServerOptions;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RewardServerTest {

  private static final Path MODEL = EmbeddedModelFixture.dir();
  private static RewardServer server;
  private static ManagedChannel channel;
  private static RewardServiceBlockingStub stub;

  @BeforeAll
  static void start() throws Exception {
    server =
        RewardServer.start(
            RewardServerOptions.defaults(MODEL).withBatching(16, 3).withRequestLimits(64, 400));
    channel = channel(server.port());
    stub = RewardServiceGrpc.newBlockingStub(channel);
  }

  @AfterAll
  static void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.close();
  }

  @Test
  void concurrentCallersGetExactlyTheirOwnRewards() throws Exception {
    // Reference: every distinct item scored alone, in a batch of one, straight through ONNX
    // Runtime.
    Random rng = new Random(5);
    List<ScoreItem> pool = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      pool.add(
          item(ReviewCorpus.prompt(rng), ReviewCorpus.response(rng, Sentiment.values()[i % 3])));
    }
    float[] alone = scoreAlone(pool);

    int callers = 12;
    ExecutorService executor = Executors.newFixedThreadPool(callers);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Integer>> checked = new ArrayList<>();
      for (int c = 0; c < callers; c++) {
        long seed = c;
        checked.add(
            executor.submit(
                () -> {
                  go.await();
                  Random mine = new Random(seed);
                  int compared = 0;
                  for (int call = 0; call < 8; call++) {
                    List<Integer> picks = new ArrayList<>();
                    ScoreRequest.Builder request = ScoreRequest.newBuilder();
                    for (int k = 0, n = 1 + mine.nextInt(10); k < n; k++) {
                      int pick = mine.nextInt(pool.size());
                      picks.add(pick);
                      request.addItems(pool.get(pick));
                    }
                    ScoreResponse response = stub.score(request.build());
                    assertEquals(picks.size(), response.getRewardsCount());
                    for (int k = 0; k < picks.size(); k++) {
                      assertEquals(alone[picks.get(k)], response.getRewards(k), 1e-5);
                      compared++;
                    }
                  }
                  return compared;
                }));
      }
      go.countDown();
      int total = 0;
      for (Future<Integer> f : checked) {
        total += f.get();
      }
      assertTrue(total >= callers * 8);
    } finally {
      executor.shutdownNow();
    }
  }

  @Test
  void scoreReportsTheModelAndRanksReviews() {
    Random rng = new Random(8);
    String prompt = ReviewCorpus.prompt("kettle");
    ScoreResponse response =
        stub.score(
            ScoreRequest.newBuilder()
                .addItems(item(prompt, ReviewCorpus.response(rng, "kettle", Sentiment.POSITIVE)))
                .addItems(item(prompt, ReviewCorpus.response(rng, "kettle", Sentiment.NEGATIVE)))
                .addItems(item("", "great great great great great"))
                .build());
    assertTrue(response.getRewards(0) > response.getRewards(1));
    assertTrue(response.getRewards(0) > response.getRewards(2));
    assertEquals(List.of(false, false, false), response.getTruncatedList());
    assertEquals(
        stub.getInfo(GetInfoRequest.getDefaultInstance()).getModelSha256(),
        response.getModelSha256());
  }

  @Test
  void badRequestsAreInvalidArgumentNamingTheField() {
    assertInvalid(ScoreRequest.getDefaultInstance(), "items: must not be empty");
    ScoreRequest.Builder tooMany = ScoreRequest.newBuilder();
    for (int i = 0; i < 65; i++) {
      tooMany.addItems(item("p", "r"));
    }
    assertInvalid(tooMany.build(), "items: 65 items exceed the limit of 64");
    assertInvalid(
        ScoreRequest.newBuilder()
            .addItems(item("p", "r"))
            .addItems(item("x".repeat(401), "r"))
            .build(),
        "items[1].prompt: 401 characters exceed the limit of 400");
    assertInvalid(
        ScoreRequest.newBuilder().addItems(item("p", "y".repeat(500))).build(),
        "items[0].response: 500 characters exceed the limit of 400");
  }

  @Test
  void getInfoReportsModelSignatureAndLimits() throws Exception {
    RewardInfo info = stub.getInfo(GetInfoRequest.getDefaultInstance());
    assertEquals(MODEL.toAbsolutePath().toString(), info.getModelPath());
    assertEquals(List.of("input_ids", "attention_mask"), info.getInputsList());
    assertEquals(List.of("logits"), info.getOutputsList());
    assertEquals(0, info.getLabelIndex());
    assertEquals(16, info.getMaxBatchSize());
    assertEquals(64, info.getMaxItems());
    assertEquals(64, info.getMaxLength());
    assertEquals(0, info.getNonFiniteCount());
    try (OnnxRewardModel model = OnnxRewardModel.load(MODEL, 0)) {
      assertEquals(model.sha256(), info.getModelSha256());
    }
  }

  @Test
  void healthAndReflectionAreServed() throws Exception {
    HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);
    assertEquals(
        ServingStatus.SERVING, health.check(HealthCheckRequest.getDefaultInstance()).getStatus());
    assertEquals(
        ServingStatus.SERVING,
        health
            .check(
                HealthCheckRequest.newBuilder().setService(RewardServiceGrpc.SERVICE_NAME).build())
            .getStatus());

    CompletableFuture<ServerReflectionResponse> reply = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> requests =
        ServerReflectionGrpc.newStub(channel)
            .serverReflectionInfo(
                new StreamObserver<>() {
                  @Override
                  public void onNext(ServerReflectionResponse value) {
                    reply.complete(value);
                  }

                  @Override
                  public void onError(Throwable t) {
                    reply.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {}
                });
    requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
    requests.onCompleted();
    List<String> services =
        reply.get(10, TimeUnit.SECONDS).getListServicesResponse().getServiceList().stream()
            .map(ServiceResponse::getName)
            .toList();
    assertTrue(services.contains(RewardServiceGrpc.SERVICE_NAME), services.toString());
    assertTrue(services.contains(HealthGrpc.SERVICE_NAME), services.toString());
  }

  @Test
  void longPromptsAreCutFromTheLeftAndFlagged() throws Exception {
    try (RewardServer small =
        RewardServer.start(RewardServerOptions.defaults(MODEL).withModelSettings(null, null, 10))) {
      ManagedChannel smallChannel = channel(small.port());
      try {
        ScoreResponse response =
            RewardServiceGrpc.newBlockingStub(smallChannel)
                .score(
                    ScoreRequest.newBuilder()
                        .addItems(
                            item("review of the very long winded kettle :", "it works well ."))
                        .addItems(item("review of the kettle :", "it works ."))
                        .build());
        assertEquals(List.of(true, false), response.getTruncatedList());
        // 10 tokens = <bos> + 4 prompt tokens + 4 response tokens + <eos>: the prompt keeps its
        // right end.
        ScoreResponse same =
            RewardServiceGrpc.newBlockingStub(smallChannel)
                .score(
                    ScoreRequest.newBuilder()
                        .addItems(item("long winded kettle :", "it works well ."))
                        .build());
        assertFalse(same.getTruncated(0));
        assertEquals(same.getRewards(0), response.getRewards(0), 1e-6);
      } finally {
        smallChannel.shutdownNow();
      }
    }
  }

  @Test
  void aBearerTokenIsRequiredWhenConfigured(@TempDir Path tmp) throws Exception {
    Path tokenFile = tmp.resolve("token");
    Files.writeString(tokenFile, "s3cret\n");
    try (RewardServer guarded =
        RewardServer.start(RewardServerOptions.defaults(MODEL).withTokenFile(tokenFile))) {
      ManagedChannel guardedChannel = channel(guarded.port());
      try {
        RewardServiceBlockingStub anonymous = RewardServiceGrpc.newBlockingStub(guardedChannel);
        StatusRuntimeException denied =
            assertThrows(
                StatusRuntimeException.class,
                () -> anonymous.getInfo(GetInfoRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNAUTHENTICATED, denied.getStatus().getCode());

        Metadata headers = new Metadata();
        headers.put(
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer s3cret");
        RewardServiceBlockingStub authorised =
            anonymous.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
        assertEquals(
            1,
            authorised
                .score(ScoreRequest.newBuilder().addItems(item("", "ok .")).build())
                .getRewardsCount());
      } finally {
        guardedChannel.shutdownNow();
      }
    }
  }

  private static float[] scoreAlone(List<ScoreItem> items) throws Exception {
    RewardModelConfig config = RewardModelConfig.read(MODEL).orElseThrow();
    float[] rewards = new float[items.size()];
    try (RewardEncoder encoder =
            RewardEncoder.load(
                MODEL.resolve("tokenizer.json"), config.inputFormat(), config.maxLength());
        OnnxRewardModel model = OnnxRewardModel.load(MODEL, 0)) {
      for (int i = 0; i < items.size(); i++) {
        EncodedInput input = encoder.encode(items.get(i).getPrompt(), items.get(i).getResponse());
        rewards[i] = model.score(PaddedBatch.of(List.of(input), encoder.padId()))[0];
      }
    }
    return rewards;
  }

  private static void assertInvalid(ScoreRequest request, String message) {
    StatusRuntimeException e =
        assertThrows(StatusRuntimeException.class, () -> stub.score(request));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertEquals(message, e.getStatus().getDescription());
  }

  private static ScoreItem item(String prompt, String response) {
    return ScoreItem.newBuilder().setPrompt(prompt).setResponse(response).build();
  }

  private static ManagedChannel channel(int port) {
    return Grpc.newChannelBuilderForAddress("127.0.0.1", port, InsecureChannelCredentials.create())
        .build();
  }
}

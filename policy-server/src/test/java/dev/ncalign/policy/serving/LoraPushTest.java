package dev.ncalign.policy.serving;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.ncalign.lm.lora.LoraAdapter;
import dev.ncalign.lm.lora.LoraConfig;
import dev.ncalign.lm.lora.TestAdapters;
import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.lm.model.Safetensors;
import dev.ncalign.lm.model.TestModels;
import dev.ncalign.proto.v1.GetInfoRequest;
import dev.ncalign.proto.v1.LogprobsItem;
import dev.ncalign.proto.v1.LogprobsRequest;
import dev.ncalign.proto.v1.LogprobsResponse;
import dev.ncalign.proto.v1.PolicyServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * LORA_ADAPTER pushes: the server then computes exactly what the learner's base + adapter computes,
 * each adapter applies onto the base (not onto the previous version), and an adapter that does not
 * fit is refused leaving the live version.
 */
class LoraPushTest {

  private static final List<String[]> ITEMS =
      List.of(new String[] {"the cat", "sat on the mat ."}, new String[] {"a dog", "ran here !"});

  private static CausalLm base;

  @BeforeAll
  static void loadBase() {
    base = TestModels.loadTiny();
  }

  @AfterAll
  static void closeBase() {
    base.close();
  }

  @Test
  void aLoraPushThenComputeLogprobsEqualsTheLearnersOwnLogprobs() throws Exception {
    try (PolicyServer server =
            PolicyServer.start(PolicyServerOptions.defaults(TestModels.tinyDir()));
        LoraAdapter first = TestAdapters.random(base, TestAdapters.ALL_LINEAR, 1);
        LoraAdapter second = TestAdapters.random(base, TestAdapters.ALL_LINEAR, 2)) {
      ManagedChannel channel = ServingFixtures.channel(server.port());
      float[] baseLogprobs = served(channel, 1);
      assertArrayEquals(learners(base), baseLogprobs, 1e-5f);

      push(channel, 2, first);
      float[] afterFirst = served(channel, 2);
      assertArrayEquals(learners(first), afterFirst, 1e-5f);
      assertTrue(maxDifference(baseLogprobs, afterFirst) > 0.05, "the adapter changes outputs");

      // The second adapter replaces the first on the base: base + second, not base + first +
      // second.
      push(channel, 3, second);
      assertArrayEquals(learners(second), served(channel, 3), 1e-5f);

      // Back to full weights, then adapters are refused: their base is gone.
      byte[] full = ServingFixtures.weights(5);
      assertEquals(4, ServingFixtures.push(channel, 4, full).getLiveVersion());
      assertRejected(Status.Code.FAILED_PRECONDITION, "replaced", () -> push(channel, 5, first));
      assertEquals(4, info(channel));
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void anAdapterThatDoesNotFitTheBaseIsRefusedAndTheLiveVersionStays() throws Exception {
    try (PolicyServer server =
            PolicyServer.start(PolicyServerOptions.defaults(TestModels.tinyDir()));
        LoraAdapter good = TestAdapters.random(base, TestAdapters.ALL_LINEAR, 3)) {
      ManagedChannel channel = ServingFixtures.channel(server.port());
      push(channel, 2, good);
      float[] live = served(channel, 2);
      byte[] tensors = good.toSafetensorsBytes();
      String json = TestAdapters.ALL_LINEAR.toPeftJson();

      String qProjA = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight";
      byte[] wrongShape =
          TestAdapters.edited(
              good, t -> t.put(qProjA, new Safetensors.Tensor(new long[] {4, 3}, new float[12])));
      assertRejected(
          Status.Code.INVALID_ARGUMENT,
          "tensor '" + qProjA + "' has shape [4, 3]",
          () -> ServingFixtures.pushAdapter(channel, 3, wrongShape, json));
      String qOnly = new LoraConfig(4, 8, 0, List.of("q_proj"), "").toPeftJson();
      assertRejected(
          Status.Code.INVALID_ARGUMENT,
          "outside target_modules",
          () -> ServingFixtures.pushAdapter(channel, 3, tensors, qOnly));
      String rank2 = new LoraConfig(2, 8, 0, LoraConfig.KNOWN_TARGETS, "").toPeftJson();
      assertRejected(
          Status.Code.INVALID_ARGUMENT,
          "rank 2 in adapter_config.json",
          () -> ServingFixtures.pushAdapter(channel, 3, tensors, rank2));
      assertRejected(
          Status.Code.INVALID_ARGUMENT,
          "header.adapter_config_json: target_modules: unknown module 'lm_head'",
          () ->
              ServingFixtures.pushAdapter(
                  channel, 3, tensors, json.replace("\"q_proj\"", "\"lm_head\"")));
      assertRejected(
          Status.Code.INVALID_ARGUMENT,
          "header.adapter_config_json: required",
          () -> ServingFixtures.pushAdapter(channel, 3, tensors, ""));
      // Full weights pushed as an adapter: not PEFT names.
      assertRejected(
          Status.Code.INVALID_ARGUMENT,
          "not a LoRA A or B weight",
          () -> ServingFixtures.pushAdapter(channel, 3, ServingFixtures.weights(4), json));
      assertRejected(
          Status.Code.FAILED_PRECONDITION,
          "header.version",
          () -> ServingFixtures.pushAdapter(channel, 2, tensors, json));

      assertEquals(2, info(channel));
      assertArrayEquals(live, served(channel, 2));
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static void push(ManagedChannel channel, long version, LoraAdapter adapter) {
    assertEquals(
        version,
        ServingFixtures.pushAdapter(
                channel, version, adapter.toSafetensorsBytes(), adapter.config().toPeftJson())
            .getLiveVersion());
  }

  /** The server's token log-probs of {@link #ITEMS}, checking the version that computed them. */
  private static float[] served(ManagedChannel channel, long version) {
    LogprobsRequest.Builder request = LogprobsRequest.newBuilder();
    ITEMS.forEach(
        i -> request.addItems(LogprobsItem.newBuilder().setPrompt(i[0]).setResponse(i[1])));
    LogprobsResponse response =
        PolicyServiceGrpc.newBlockingStub(channel).computeLogprobs(request.build());
    assertEquals(version, response.getPolicyVersion());
    return flatten(response.getResultsList().stream().map(r -> r.getTokenLogprobsList()).toList());
  }

  /** The learner's log-probs of {@link #ITEMS} under the base with {@code adapter}. */
  private static float[] learners(LoraAdapter adapter) {
    // The view owns the adapter; the test closes the adapter itself.
    return learners(base.withAdapter(adapter));
  }

  private static float[] learners(CausalLm lm) {
    try (NDManager scope = lm.manager().newSubManager()) {
      var result =
          lm.logprobs(
              scope,
              ITEMS.stream().map(i -> lm.codec().encodePrompt(i[0])).toList(),
              ITEMS.stream().map(i -> lm.codec().encodeResponse(i[1])).toList(),
              false);
      float[] flat = result.tokenLogprobs().toFloatArray();
      int width = (int) result.tokenLogprobs().getShape().get(1);
      List<List<Float>> rows = new java.util.ArrayList<>();
      for (int i = 0; i < ITEMS.size(); i++) {
        List<Float> row = new java.util.ArrayList<>();
        int length = lm.codec().encodeResponse(ITEMS.get(i)[1]).length;
        for (int j = 0; j < length; j++) {
          row.add(flat[i * width + j]);
        }
        rows.add(row);
      }
      return flatten(rows);
    }
  }

  private static float[] flatten(List<List<Float>> rows) {
    float[] flat = new float[rows.stream().mapToInt(List::size).sum()];
    int at = 0;
    for (List<Float> row : rows) {
      for (float v : row) {
        flat[at++] = v;
      }
    }
    return flat;
  }

  private static double maxDifference(float[] a, float[] b) {
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]));
    }
    return max;
  }

  private static long info(ManagedChannel channel) {
    return PolicyServiceGrpc.newBlockingStub(channel)
        .getInfo(GetInfoRequest.getDefaultInstance())
        .getLiveVersion();
  }

  private static void assertRejected(Status.Code code, String reason, Runnable push) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, push::run);
    assertEquals(code, e.getStatus().getCode(), e.toString());
    assertTrue(e.getStatus().getDescription().contains(reason), e.getStatus().getDescription());
  }
}

package dev.ncalign.policy.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.lm.model.Safetensors;
import dev.ncalign.lm.model.TestModels;
import dev.ncalign.proto.v1.GenerateRequest;
import dev.ncalign.proto.v1.GetInfoRequest;
import dev.ncalign.proto.v1.PolicyServiceGrpc;
import dev.ncalign.proto.v1.SamplingParams;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * A bad push is refused with the reason and leaves the live version (and its outputs) untouched.
 */
class BadPushTest {

  @Test
  void badPushesLeaveTheLiveVersionUntouched() throws Exception {
    try (PolicyServer server =
        PolicyServer.start(PolicyServerOptions.defaults(TestModels.tinyDir()))) {
      ManagedChannel channel = ServingFixtures.channel(server.port());
      byte[] good = ServingFixtures.weights(7);
      assertUntouchedBy(
          channel,
          () -> {
            assertRejected(
                Status.Code.INVALID_ARGUMENT,
                "header.sha256_hex",
                () ->
                    ServingFixtures.push(
                        channel,
                        null,
                        2,
                        good,
                        good.length,
                        ServingFixtures.sha256(new byte[] {1})));
            byte[] half = Arrays.copyOf(good, good.length / 2);
            assertRejected(
                Status.Code.INVALID_ARGUMENT,
                "header.total_bytes",
                () ->
                    ServingFixtures.push(
                        channel, null, 2, half, good.length, ServingFixtures.sha256(good)));
            byte[] wrongShape =
                variant(
                    t ->
                        t.put(
                            "model.norm.weight",
                            new Safetensors.Tensor(new long[] {3}, new float[3])));
            assertRejected(
                Status.Code.INVALID_ARGUMENT,
                "tensor 'model.norm.weight' has shape",
                () -> ServingFixtures.push(channel, 2, wrongShape));
            byte[] unknown =
                variant(
                    t ->
                        t.put(
                            "model.extra.weight",
                            new Safetensors.Tensor(new long[] {1}, new float[1])));
            assertRejected(
                Status.Code.INVALID_ARGUMENT,
                "unknown tensor 'model.extra.weight'",
                () -> ServingFixtures.push(channel, 2, unknown));
            byte[] missing = variant(t -> t.remove("lm_head.weight"));
            assertRejected(
                Status.Code.INVALID_ARGUMENT,
                "missing tensor 'lm_head.weight'",
                () -> ServingFixtures.push(channel, 2, missing));
            byte[] garbage = "not a safetensors file".getBytes();
            assertRejected(
                Status.Code.INVALID_ARGUMENT,
                "safetensors",
                () -> ServingFixtures.push(channel, 2, garbage));
            assertRejected(
                Status.Code.FAILED_PRECONDITION,
                "header.version",
                () -> ServingFixtures.push(channel, 1, good));
          });

      assertEquals(
          2, ServingFixtures.push(channel, 2, good).getLiveVersion(), "a good push still works");
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void nonFiniteWeightsAreRefusedNamingTheTensor() throws Exception {
    String first;
    try (CausalLm lm = TestModels.loadTiny()) {
      first = lm.parameters().keySet().iterator().next();
    }
    String inner = "model.layers.0.mlp.up_proj.weight";
    byte[] allNaN = variant(t -> t.replaceAll((name, tensor) -> filled(tensor, Float.NaN)));
    byte[] allInf =
        variant(t -> t.replaceAll((name, tensor) -> filled(tensor, Float.POSITIVE_INFINITY)));
    byte[] oneNaN = variant(t -> t.computeIfPresent(inner, (name, w) -> withOne(w, Float.NaN)));
    byte[] oneNegInf =
        variant(
            t ->
                t.computeIfPresent(
                    "model.norm.weight", (name, w) -> withOne(w, Float.NEGATIVE_INFINITY)));
    try (PolicyServer server =
        PolicyServer.start(PolicyServerOptions.defaults(TestModels.tinyDir()))) {
      ManagedChannel channel = ServingFixtures.channel(server.port());
      assertUntouchedBy(
          channel,
          () -> {
            assertRejected(
                Status.Code.INVALID_ARGUMENT,
                "tensor '" + first + "' holds",
                () -> ServingFixtures.push(channel, 2, allNaN));
            assertRejected(
                Status.Code.INVALID_ARGUMENT,
                "tensor '" + first + "' holds",
                () -> ServingFixtures.push(channel, 2, allInf));
            assertRejected(
                Status.Code.INVALID_ARGUMENT,
                "tensor '" + inner + "' holds 1 NaN or infinite values",
                () -> ServingFixtures.push(channel, 2, oneNaN));
            assertRejected(
                Status.Code.INVALID_ARGUMENT,
                "tensor 'model.norm.weight' holds 1 NaN or infinite values",
                () -> ServingFixtures.push(channel, 2, oneNegInf));
          });
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /**
   * Runs {@code pushes}, which must all be refused, and checks that version 1 is still live and
   * still gives the same greedy completion.
   */
  private static void assertUntouchedBy(ManagedChannel channel, Runnable pushes) {
    PolicyServiceGrpc.PolicyServiceBlockingStub stub = PolicyServiceGrpc.newBlockingStub(channel);
    GenerateRequest greedy =
        GenerateRequest.newBuilder()
            .addPrompts("the cat")
            .setNumSamples(1)
            .setSampling(SamplingParams.newBuilder().setMaxNewTokens(6))
            .build();
    var before = stub.generate(greedy).getCompletions(0);
    pushes.run();
    assertEquals(1, stub.getInfo(GetInfoRequest.getDefaultInstance()).getLiveVersion());
    var after = stub.generate(greedy).getCompletions(0);
    assertEquals(before.getTokenIdsList(), after.getTokenIdsList());
    assertEquals(before.getTokenLogprobsList(), after.getTokenLogprobsList());
  }

  /** {@code tensor} with its middle element replaced by {@code value}. */
  private static Safetensors.Tensor withOne(Safetensors.Tensor tensor, float value) {
    float[] values = tensor.data().clone();
    values[values.length / 2] = value;
    return new Safetensors.Tensor(tensor.shape(), values);
  }

  private static Safetensors.Tensor filled(Safetensors.Tensor tensor, float value) {
    float[] values = new float[tensor.data().length];
    Arrays.fill(values, value);
    return new Safetensors.Tensor(tensor.shape(), values);
  }

  @Test
  void pushNeedsTheBearerTokenWhenConfigured() throws Exception {
    Path tokenFile = Files.createTempFile("token", ".txt");
    Files.writeString(tokenFile, "s3cret\n");
    PolicyServerOptions options =
        PolicyServerOptions.defaults(TestModels.tinyDir()).withPushTokenFile(tokenFile);
    try (PolicyServer server = PolicyServer.start(options)) {
      ManagedChannel channel = ServingFixtures.channel(server.port());
      byte[] good = ServingFixtures.weights(8);
      String sha = ServingFixtures.sha256(good);
      assertRejected(
          Status.Code.UNAUTHENTICATED,
          "PushWeights",
          () -> ServingFixtures.push(channel, null, 2, good, good.length, sha));
      assertRejected(
          Status.Code.UNAUTHENTICATED,
          "PushWeights",
          () -> ServingFixtures.push(channel, "wrong", 2, good, good.length, sha));
      assertEquals(
          2, ServingFixtures.push(channel, "s3cret", 2, good, good.length, sha).getLiveVersion());
      // Other calls need no token.
      assertEquals(
          2,
          PolicyServiceGrpc.newBlockingStub(channel)
              .getInfo(GetInfoRequest.getDefaultInstance())
              .getLiveVersion());
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void bindingBeyondLoopbackRequiresAToken() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                PolicyServer.start(
                    PolicyServerOptions.defaults(TestModels.tinyDir()).withBind("0.0.0.0")));
    assertTrue(e.getMessage().contains("--push-token-file"), e.getMessage());
  }

  /** The tiny model's weights with one change to the tensor map. */
  private static byte[] variant(Consumer<Map<String, Safetensors.Tensor>> change) {
    try (CausalLm lm = TestModels.loadTiny()) {
      return TestModels.edited(lm.parameters(), change);
    }
  }

  private static void assertRejected(Status.Code code, String reason, Runnable push) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, push::run);
    assertEquals(code, e.getStatus().getCode(), e.toString());
    assertTrue(e.getStatus().getDescription().contains(reason), e.getStatus().getDescription());
  }
}

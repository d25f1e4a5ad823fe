package dev.ncalign.policy.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.lm.model.TestModels;
import dev.ncalign.lm.model.WeightDType;
import dev.ncalign.proto.v1.GenerateRequest;
import dev.ncalign.proto.v1.GenerateResponse;
import dev.ncalign.proto.v1.LogprobsItem;
import dev.ncalign.proto.v1.LogprobsRequest;
import dev.ncalign.proto.v1.PolicyServiceGrpc;
import dev.ncalign.proto.v1.SamplingParams;
import io.grpc.ManagedChannel;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code --dtype}: a float16 server samples, scores and takes a bfloat16 push. */
class DtypeTest {

  @Test
  void aFloat16ServerGeneratesScoresAndTakesABfloat16Push() throws Exception {
    byte[] bf16;
    try (CausalLm lm = TestModels.loadTiny()) {
      TestModels.randomize(lm, 21, 0.25);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      lm.writeSafetensors(out, WeightDType.BF16);
      bf16 = out.toByteArray();
    }
    try (PolicyServer server =
        PolicyServer.start(
            PolicyServerOptions.defaults(TestModels.tinyDir()).withDtype("float16"))) {
      try (PolicyLease lease = server.registry().acquire()) {
        assertEquals(WeightDType.F16, lease.model().dtype());
      }
      ManagedChannel channel = ServingFixtures.channel(server.port());
      try {
        assertEquals(2, ServingFixtures.push(channel, 2, bf16).getLiveVersion());
        PolicyServiceGrpc.PolicyServiceBlockingStub stub =
            PolicyServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
        GenerateResponse response =
            stub.generate(
                GenerateRequest.newBuilder()
                    .addPrompts("the cat sat")
                    .setNumSamples(2)
                    .setSampling(
                        SamplingParams.newBuilder()
                            .setMaxNewTokens(5)
                            .setTemperature(1f)
                            .setSeed(4))
                    .build());
        assertEquals(2, response.getCompletionsCount());
        for (var completion : response.getCompletionsList()) {
          assertTrue(completion.getTokenIdsCount() > 0);
          double sum = 0;
          for (float logprob : completion.getTokenLogprobsList()) {
            assertTrue(logprob <= 0 && Float.isFinite(logprob), "log-prob " + logprob);
            sum += logprob;
          }
          assertEquals(sum, completion.getSumLogprob(), 1e-3);
        }
        // The same text scored by the float16 server and by a float32 model with the pushed
        // weights.
        var scored =
            stub.computeLogprobs(
                LogprobsRequest.newBuilder()
                    .addItems(
                        LogprobsItem.newBuilder()
                            .setPrompt("the cat sat")
                            .setResponse("on the mat ."))
                    .build());
        try (CausalLm reference = TestModels.loadTiny();
            NDManager scope = reference.manager().newSubManager()) {
          reference.loadSafetensors(new ByteArrayInputStream(bf16));
          float expected =
              reference
                  .logprobs(
                      scope,
                      List.of(reference.codec().encodePrompt("the cat sat")),
                      List.of(reference.codec().encodeResponse("on the mat .")),
                      false)
                  .sums()
                  .getFloat(0);
          assertEquals(
              expected, scored.getResults(0).getSumLogprob(), 0.05, "float16 within 0.05 nats");
        }
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void anUnknownDtypeIsRefusedByName() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                PolicyServer.start(
                        PolicyServerOptions.defaults(TestModels.tinyDir()).withDtype("int8"))
                    .close());
    assertEquals("dtype must be auto, float32, bfloat16 or float16, got 'int8'", e.getMessage());
  }
}

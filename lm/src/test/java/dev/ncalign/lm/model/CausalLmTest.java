package dev.ncalign.lm.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CausalLmTest {

  private static CausalLm lm;

  @BeforeAll
  static void load() {
    lm = TestModels.loadTiny();
    TestModels.randomize(lm, 3, 0.3);
  }

  @AfterAll
  static void close() {
    lm.close();
  }

  @Test
  void batchedLogprobsEqualOneByOne() {
    List<int[]> prompts =
        List.of(
            lm.codec().encodePrompt("the cat sat on the mat"),
            lm.codec().encodePrompt(""),
            lm.codec().encodePrompt("hello world"));
    List<int[]> responses =
        List.of(
            lm.codec().encodeResponse("and ran"),
            lm.codec().encodeResponse("a big red house is very good"),
            lm.codec().encodeResponse("!"));
    try (NDManager scope = lm.manager().newSubManager()) {
      SequenceLogprobs batched = lm.logprobs(scope, prompts, responses, false);
      assertArrayEquals(new long[] {3, 7}, batched.tokenLogprobs().getShape().getShape());
      float[] all = batched.tokenLogprobs().toFloatArray();
      float[] sums = batched.sums().toFloatArray();
      for (int i = 0; i < prompts.size(); i++) {
        SequenceLogprobs single =
            lm.logprobs(scope, List.of(prompts.get(i)), List.of(responses.get(i)), false);
        float[] tokens = single.tokenLogprobs().toFloatArray();
        assertEquals(responses.get(i).length, tokens.length);
        for (int j = 0; j < 7; j++) {
          float expected = j < tokens.length ? tokens[j] : 0f;
          assertEquals(expected, all[i * 7 + j], 1e-5, "sequence " + i + " token " + j);
          assertTrue(all[i * 7 + j] <= 0);
        }
        assertEquals(single.sums().getFloat(0), sums[i], 1e-5);
      }
    }
  }

  @Test
  void logprobsAreLogSoftmaxOfTheNextTokenLogits() {
    int[] prompt = lm.codec().encodePrompt("the dog");
    int[] response = lm.codec().encodeResponse("ran there");
    try (NDManager scope = lm.manager().newSubManager()) {
      float[] got =
          lm.logprobs(scope, List.of(prompt), List.of(response), false)
              .tokenLogprobs()
              .toFloatArray();
      int[] ids = {prompt[0], prompt[1], prompt[2], response[0], response[1]};
      float[] logits =
          lm.forward(
                  scope.create(java.util.Arrays.stream(ids).asLongStream().toArray()).reshape(1, 5),
                  scope.arange(0f, 5f).reshape(1, 5),
                  AttentionMask.causal(scope, 5),
                  null)
              .toFloatArray();
      int vocab = lm.config().vocabSize();
      for (int j = 0; j < 2; j++) {
        int position = prompt.length - 1 + j;
        double max = Double.NEGATIVE_INFINITY;
        for (int v = 0; v < vocab; v++) {
          max = Math.max(max, logits[position * vocab + v]);
        }
        double total = 0;
        for (int v = 0; v < vocab; v++) {
          total += Math.exp(logits[position * vocab + v] - max);
        }
        double expected = logits[position * vocab + response[j]] - max - Math.log(total);
        assertEquals(expected, got[j], 1e-5);
      }
    }
  }

  @Test
  void saveAndLoadRoundTripExactly() throws Exception {
    Path dir = TestModels.tempDir("saved");
    lm.save(dir);
    assertTrue(Files.exists(dir.resolve("tokenizer.json")));
    try (CausalLm reloaded = CausalLm.load(dir, Device.cpu())) {
      assertEquals(lm.config(), reloaded.config());
      assertEquals(lm.parameterCount(), reloaded.parameterCount());
      ModelFixtures.assertSameWeights(lm, reloaded);
    }
  }

  @Test
  void parameterCountMatchesTheArchitecture() {
    ModelConfig c = lm.config();
    long kv = (long) c.numKeyValueHeads() * c.headDim();
    long perLayer =
        2L * c.hiddenSize() * c.hiddenSize()
            + 2 * kv * c.hiddenSize()
            + 3L * c.hiddenSize() * c.intermediateSize()
            + 2L * c.hiddenSize();
    long expected =
        2L * c.vocabSize() * c.hiddenSize() + c.numHiddenLayers() * perLayer + c.hiddenSize();
    assertEquals(expected, lm.parameterCount());
  }

  @Test
  void loadSafetensorsRejectsUnknownMissingAndMisshapedTensorsBeforeChangingAnything() {
    Map<String, float[]> before = snapshot();
    assertRejected(
        Map.of("model.layers.0.mlp.extra.weight", new long[] {2}),
        null,
        "unknown tensor 'model.layers.0.mlp.extra.weight'");
    assertRejected(Map.of(), "model.norm.weight", "missing tensor 'model.norm.weight'");
    assertRejected(
        Map.of("model.norm.weight", new long[] {lm.config().hiddenSize() + 1}),
        null,
        "tensor 'model.norm.weight' has shape");
    Map<String, float[]> after = snapshot();
    before.forEach((name, values) -> assertArrayEquals(values, after.get(name), name));
  }

  /**
   * Writes the model's own weights with {@code overrides} (name → shape) added/replaced and {@code
   * drop} removed.
   */
  private static void assertRejected(Map<String, long[]> overrides, String drop, String message) {
    Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
    lm.parameters()
        .forEach(
            (name, p) ->
                tensors.put(
                    name,
                    new Safetensors.Tensor(
                        p.getArray().getShape().getShape(), new float[(int) p.getArray().size()])));
    overrides.forEach(
        (name, shape) ->
            tensors.put(name, new Safetensors.Tensor(shape, new float[(int) shape[0]])));
    tensors.remove(drop);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Safetensors.write(out, tensors);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> lm.loadSafetensors(new ByteArrayInputStream(out.toByteArray())));
    assertTrue(e.getMessage().contains(message), e.getMessage());
  }

  private static Map<String, float[]> snapshot() {
    Map<String, float[]> values = new LinkedHashMap<>();
    lm.parameters().forEach((name, p) -> values.put(name, p.getArray().toFloatArray()));
    return values;
  }

  @Test
  void writeThenLoadSafetensorsIsIdentity() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    lm.writeSafetensors(out);
    try (CausalLm standby = lm.newStandby()) {
      standby.loadSafetensors(new ByteArrayInputStream(out.toByteArray()));
      ModelFixtures.assertSameWeights(lm, standby);
    }
    // The standby shared the tokenizer; closing it must not close the codec of the live model.
    assertEquals(2, lm.codec().encodePrompt("hello").length);
  }

  @Test
  void rejectsUnsupportedArchitecture() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                ModelConfig.fromJson(
                    new com.fasterxml.jackson.databind.ObjectMapper()
                        .readTree(
                            "{\"architectures\":[\"GPT2LMHeadModel\"],"
                                + "\"vocab_size\":10,\"hidden_size\":8,\"intermediate_size\":8,\"num_hidden_layers\":1,"
                                + "\"num_attention_heads\":2,\"max_position_embeddings\":8}")));
    assertTrue(e.getMessage().contains("GPT2LMHeadModel"));
  }
}

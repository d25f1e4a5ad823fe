package dev.ncalign.lm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The DJL forward computes what HF transformers computes, checked against a plain-Java
 * transcription.
 */
class HfEquivalenceTest {

  @ParameterizedTest
  @ValueSource(strings = {"llama-gqa", "qwen2-bias-tied"})
  void logitsMatchTheHfReference(String variant) {
    TinyModelSpec spec = new TinyModelSpec(24, 2, 4, 2, 40, 32);
    if (variant.startsWith("qwen2")) {
      spec = spec.withQwen2(true).withTiedEmbeddings(true);
    }
    try (CausalLm lm = CausalLm.load(TestModels.write(spec, 7), Device.cpu())) {
      TestModels.randomize(lm, 11, 0.3);
      assertLogitsMatchReference(lm, new int[] {1, 5, 9, 4, 30, 12, 7, 7, 22, 3}, 1e-4);
    }
  }

  /** The DJL logits of {@code ids} equal {@link HfLlamaReference}'s within {@code tolerance}. */
  static void assertLogitsMatchReference(CausalLm lm, int[] ids, double tolerance) {
    try (NDManager scope = lm.manager().newSubManager()) {
      float[] actual = logits(lm, scope, ids);

      Map<String, float[]> weights = new LinkedHashMap<>();
      lm.parameters().forEach((name, p) -> weights.put(name, p.getArray().toFloatArray()));
      double[][] expected = new HfLlamaReference(lm.config(), weights).logits(ids);

      int vocab = lm.config().vocabSize();
      for (int t = 0; t < ids.length; t++) {
        for (int v = 0; v < vocab; v++) {
          assertEquals(
              expected[t][v],
              actual[t * vocab + v],
              tolerance,
              "logit at position " + t + ", token " + v);
        }
      }
    }
  }

  /** Logits [seq, vocab] of one unpadded sequence, flattened. */
  static float[] logits(CausalLm lm, NDManager scope, int[] ids) {
    NDArray input =
        scope.create(java.util.Arrays.stream(ids).asLongStream().toArray()).reshape(1, ids.length);
    return lm.forward(
            input,
            scope.arange(0f, ids.length).reshape(1, ids.length),
            AttentionMask.causal(scope, ids.length),
            null)
        .toFloatArray();
  }
}

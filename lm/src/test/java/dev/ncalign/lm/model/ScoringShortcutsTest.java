package dev.ncalign.lm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The two ways scoring and prefill avoid full [rows, tokens, vocab] logits give the full
 * computation's numbers: last-position-only logits, and log-probs computed a chunk of rows at a
 * time.
 */
class ScoringShortcutsTest {

  private static CausalLm lm;

  @BeforeAll
  static void load() {
    lm = TestModels.loadTiny();
    TestModels.randomize(lm, 21, 0.25);
  }

  @AfterAll
  static void close() {
    lm.close();
  }

  @Test
  void lastPositionLogitsEqualTheLastRowOfFullLogits() {
    int batch = 3;
    int seq = 7;
    long[] ids = new long[batch * seq];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = 4 + (i * 11) % 30;
    }
    int[] padding = {0, 2, 5};
    float[] positions = new float[batch * seq];
    for (int b = 0; b < batch; b++) {
      for (int t = padding[b]; t < seq; t++) {
        positions[b * seq + t] = t - padding[b];
      }
    }
    int vocab = lm.config().vocabSize();
    try (NDManager scope = lm.manager().newSubManager();
        NoGrad ignored = NoGrad.enter()) {
      NDArray input = scope.create(ids, new Shape(batch, seq));
      NDArray position = scope.create(positions, new Shape(batch, seq));
      NDArray mask = AttentionMask.leftPadded(scope, padding, seq, seq);
      float[] full = lm.forward(input, position, mask, null).toFloatArray();
      float[] last = lm.forwardLast(input, position, mask, null).toFloatArray();
      assertEquals(batch * vocab, last.length);
      for (int b = 0; b < batch; b++) {
        for (int v = 0; v < vocab; v++) {
          float expected = full[(b * seq + seq - 1) * vocab + v];
          assertEquals(expected, last[b * vocab + v], 1e-6 * Math.max(1, Math.abs(expected)));
        }
      }
    }
  }

  @Test
  void inferenceScoringHoldsOneLayersTemporariesAtATime() {
    List<int[]> prompts = List.of(new int[] {1, 5, 9}, new int[] {1, 4});
    List<int[]> responses = List.of(new int[] {12, 4, 19, 2}, new int[] {6, 6, 6});
    long[] left = new long[2];
    int[] depths = {2, 6};
    for (int i = 0; i < depths.length; i++) {
      TinyModelSpec spec = TinyModelSpec.tiny();
      spec =
          new TinyModelSpec(
              spec.hidden(),
              depths[i],
              spec.heads(),
              spec.kvHeads(),
              spec.intermediate(),
              spec.maxPositions());
      try (CausalLm deep = CausalLm.load(TestModels.write(spec, 3), Device.cpu());
          NDManager scope = deep.manager().newSubManager()) {
        deep.logprobs(scope, prompts, responses, false);
        left[i] = scope.getManagedArrays().size();
      }
    }
    // Each extra layer may leave its broadcast views of cos and sin (for queries and keys) and of
    // the mask, 5 small arrays; its q/k/v, attention and MLP activations (dozens of arrays) are
    // freed as soon as the layer is done.
    assertTrue(left[1] - left[0] <= 5 * (depths[1] - depths[0]), Arrays.toString(left));
  }

  @Test
  void chunkedScoringEqualsOneChunk() {
    List<int[]> prompts = List.of(new int[] {1, 5, 9}, new int[] {1}, new int[] {1, 7, 7, 8, 30});
    List<int[]> responses =
        List.of(new int[] {12, 4, 19, 2}, new int[] {6, 6, 6, 6, 6, 6, 6}, new int[] {33});
    try (NDManager scope = lm.manager().newSubManager()) {
      float[] whole =
          lm.logprobs(scope, prompts, responses, false, Integer.MAX_VALUE)
              .tokenLogprobs()
              .toFloatArray();
      for (int chunk : new int[] {1, 2, 5, CausalLm.DEFAULT_SCORING_CHUNK_ROWS}) {
        SequenceLogprobs chunked = lm.logprobs(scope, prompts, responses, false, chunk);
        float[] tokens = chunked.tokenLogprobs().toFloatArray();
        assertEquals(whole.length, tokens.length);
        for (int i = 0; i < whole.length; i++) {
          assertEquals(whole[i], tokens[i], 1e-6, "chunk " + chunk + " token " + i);
        }
        assertEquals(new Shape(3, 7), chunked.tokenLogprobs().getShape());
      }
      assertThrows(
          IllegalArgumentException.class, () -> lm.logprobs(scope, prompts, responses, false, 0));
    }
  }
}

package dev.ncalign.lm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Memory of decoding with the cache: nothing accumulates per step. */
class KvCacheTest {

  private static CausalLm lm;

  @BeforeAll
  static void load() {
    lm = TestModels.loadTiny();
  }

  @AfterAll
  static void close() {
    lm.close();
  }

  @Test
  void decodeStepsLeaveOnlyTheCacheBuffersWhoseSizeIsFixed() {
    int layers = lm.config().numHiddenLayers();
    try (NoGrad ignored = NoGrad.enter();
        NDManager request = lm.manager().newSubManager()) {
      KvCache cache = new KvCache(request, layers, 40);
      int batch = 3;
      int prompt = 5;
      try (NDManager step = request.newSubManager()) {
        lm.forwardLast(
            step.zeros(new Shape(batch, prompt), DataType.INT64),
            step.arange(0f, prompt).reshape(1, prompt),
            AttentionMask.causal(step, prompt),
            cache);
      }
      long[] arraysAfter = new long[17];
      long[] bytesAfter = new long[17];
      for (int t = 1; t <= 16; t++) {
        decodeStep(request, cache, batch, prompt + t - 1);
        arraysAfter[t] = request.getManagedArrays().size();
        bytesAfter[t] = request.getManagedArrays().stream().mapToLong(KvCacheTest::bytes).sum();
      }
      assertEquals(prompt + 16, cache.length());
      // One key and one value buffer per layer, whatever the number of steps: linear memory in the
      // tokens generated (the buffers hold them), no per-step copies left behind.
      assertEquals(2L * layers, arraysAfter[8]);
      assertEquals(arraysAfter[8], arraysAfter[16]);
      assertEquals(bytesAfter[1], bytesAfter[16]);
      long expected =
          2L * layers * batch * lm.config().numKeyValueHeads() * 40 * lm.config().headDim() * 4;
      assertEquals(expected, bytesAfter[16]);
    }
  }

  @Test
  void selectingRowsKeepsTheirContentsAndCapacityIsEnforced() {
    try (NoGrad ignored = NoGrad.enter();
        NDManager request = lm.manager().newSubManager()) {
      KvCache cache = new KvCache(request, lm.config().numHiddenLayers(), 6);
      float[] two;
      float[] copied;
      try (NDManager step = request.newSubManager()) {
        NDArray ids = step.create(new long[] {4, 9, 12, 7, 20, 5, 8, 30}, new Shape(2, 4));
        two =
            lm.forwardLast(
                    ids, step.arange(0f, 4).reshape(1, 4), AttentionMask.causal(step, 4), cache)
                .toFloatArray();
      }
      cache.selectRows(new long[] {1, 1, 0});
      try (NDManager step = request.newSubManager()) {
        // Feed the same token to the three rows: rows 0 and 1 (copies of prompt 1) agree.
        copied =
            lm.forwardLast(
                    step.create(new long[] {3, 3, 3}, new Shape(3, 1)),
                    step.create(new float[] {4, 4, 4}, new Shape(3, 1)),
                    AttentionMask.leftPadded(step, new int[] {0, 0, 0}, 1, 5),
                    cache)
                .toFloatArray();
      }
      int vocab = lm.config().vocabSize();
      for (int v = 0; v < vocab; v++) {
        assertEquals(copied[v], copied[vocab + v], 0f);
      }
      assertEquals(2 * vocab, two.length);
      try (NDManager step = request.newSubManager()) {
        IllegalStateException e =
            assertThrows(
                IllegalStateException.class,
                () ->
                    lm.forwardLast(
                        step.create(new long[] {3, 3, 3, 3, 3, 3}, new Shape(3, 2)),
                        step.create(new float[] {5, 6}, new Shape(1, 2)),
                        AttentionMask.leftPadded(step, new int[] {0, 0, 0}, 2, 7),
                        cache));
        assertTrue(e.getMessage().contains("holds 6 positions"), e.getMessage());
      }
    }
  }

  private static void decodeStep(NDManager request, KvCache cache, int batch, int position) {
    try (NDManager step = request.newSubManager()) {
      float[] positions = new float[batch];
      Arrays.fill(positions, position);
      lm.forwardLast(
          step.create(new long[batch], new Shape(batch, 1)).add(5),
          step.create(positions, new Shape(batch, 1)),
          AttentionMask.leftPadded(step, new int[batch], 1, position + 1),
          cache);
    }
  }

  private static long bytes(NDArray array) {
    return array.size() * array.getDataType().getNumOfBytes();
  }
}

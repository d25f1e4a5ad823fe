package dev.ncalign.lm.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The fixed operands the layers make once (rotate_half matrix, attention scale, RMSNorm epsilon)
 * instead of per call: exact, and owned by libtorch rather than by a Java buffer.
 */
class LayerConstantsTest {

  @Test
  void rotateHalfMatrixGivesExactlyRotateHalf() {
    int headDim = 16;
    Random random = new Random(3);
    float[] x = new float[2 * 3 * 5 * headDim];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(7) - 3));
    }
    try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
      NDArray input = manager.create(x, new Shape(2, 3, 5, headDim));
      NDArray matrix =
          manager.create(RotaryEmbedding.rotateHalfMatrix(headDim), new Shape(headDim, headDim));
      // HF: rotate_half(x) = cat((-x2, x1), dim=-1)
      NDArray expected =
          input
              .get("..., " + headDim / 2 + ":")
              .neg()
              .concat(input.get("..., :" + headDim / 2), -1);
      assertArrayEquals(expected.toFloatArray(), input.matMul(matrix).toFloatArray());
      // float16 weights (bfloat16 ones are held as float32, see WeightDType.arrayType)
      NDArray half = input.toType(DataType.FLOAT16, false);
      assertArrayEquals(
          expected.toType(DataType.FLOAT16, false).toType(DataType.FLOAT32, false).toFloatArray(),
          half.matMul(matrix.toType(DataType.FLOAT16, false))
              .toType(DataType.FLOAT32, false)
              .toFloatArray());
    }
  }

  @Test
  void forwardIsUnchangedOnceTheGarbageCollectorHasFreedJavaBuffers() throws Exception {
    try (CausalLm lm = TestModels.loadTiny()) {
      TestModels.randomize(lm, 11, 0.25);
      float[] before = logits(lm);
      // A constant left over a Java buffer would now read memory that was freed and reused.
      for (int round = 0; round < 3; round++) {
        System.gc();
        Thread.sleep(50);
        try (NDManager churn = NDManager.newBaseManager(Device.cpu())) {
          for (int i = 0; i < 200; i++) {
            float[] garbage = new float[32 * 32];
            Arrays.fill(garbage, Float.NaN);
            churn.create(garbage, new Shape(32, 32)).close();
            churn.create(Float.NaN).close();
          }
        }
      }
      assertArrayEquals(before, logits(lm));
    }
  }

  private static float[] logits(CausalLm lm) {
    try (NoGrad ignored = NoGrad.enter();
        NDManager step = lm.manager().newSubManager()) {
      int seq = 5;
      return lm.forward(
              step.create(new long[] {4, 9, 12, 7, 20}, new Shape(1, seq)),
              step.arange(0f, seq).reshape(1, seq),
              AttentionMask.causal(step, seq),
              null)
          .toFloatArray();
    }
  }
}

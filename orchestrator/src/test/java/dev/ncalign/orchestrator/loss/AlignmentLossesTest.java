package dev.ncalign.orchestrator.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class AlignmentLossesTest {
  private static final double LN2 = Math.log(2);

  private NDManager manager;

  @BeforeEach
  void open() {
    manager = NDManager.newBaseManager();
  }

  @AfterEach
  void close() {
    manager.close();
  }

  @Test
  void runsOnThePyTorchEngineOffline() {
    assertEquals("PyTorch", Engine.getInstance().getEngineName());
    assertEquals("true", System.getProperty("ai.djl.offline"));
  }

  @Test
  void closedFormsAtZeroImplicitReward() {
    // r = 0 everywhere and equal rewards: w = 1/2, log σ(0) = −ln 2, log softmax = −ln 2.
    float[][] zeros = {{0, 0}};
    assertEquals(LN2, loss(LossType.INFONCA, zeros, zeros, zeros, 1f, 1f), 1e-6);
    assertEquals(2 * LN2, loss(LossType.NCA, zeros, zeros, zeros, 1f, 1f), 1e-6);
    assertEquals(LN2, loss(LossType.DPO, zeros, zeros, zeros, 1f, 1f), 1e-6);
    assertEquals(2 * LN2, loss(LossType.NCA_PAIR, zeros, zeros, zeros, 1f, 1f), 1e-6);
  }

  @Test
  void closedFormsAtGeneralPoint() {
    float[][] policy = {{-3f, -5f, -4f}};
    float[][] ref = {{-4f, -4f, -4f}};
    float[][] rewards = {{2f, 0f, 1f}};
    float beta = 0.5f;
    float alpha = 2f;
    double[] r = {0.5, -0.5, 0.0};
    double[] w = softmax(new double[] {1.0, 0.0, 0.5});
    double lse = Math.log(Math.exp(0.5) + Math.exp(-0.5) + 1.0);
    double infoNca = 0;
    double nca = 0;
    for (int i = 0; i < 3; i++) {
      infoNca -= w[i] * (r[i] - lse);
      nca -= w[i] * logSigmoid(r[i]) + logSigmoid(-r[i]) / 3;
    }
    // chosen = index 0 (reward 2), rejected = index 1 (reward 0)
    double dpo = -logSigmoid(0.5 - (-0.5));
    double ncaPair = -logSigmoid(0.5) - 0.5 * logSigmoid(-0.5) - 0.5 * logSigmoid(0.5);
    assertEquals(infoNca, loss(LossType.INFONCA, policy, ref, rewards, beta, alpha), 1e-5);
    assertEquals(nca, loss(LossType.NCA, policy, ref, rewards, beta, alpha), 1e-5);
    assertEquals(dpo, loss(LossType.DPO, policy, ref, rewards, beta, alpha), 1e-5);
    assertEquals(ncaPair, loss(LossType.NCA_PAIR, policy, ref, rewards, beta, alpha), 1e-5);
  }

  @Test
  void batchLossIsTheMeanOverPrompts() {
    float[][] policy = {{-1f, -2f}, {-3f, -1f}};
    float[][] ref = {{-1.5f, -1.5f}, {-2f, -2f}};
    float[][] rewards = {{1f, 0f}, {0f, 3f}};
    for (LossType type : LossType.values()) {
      double first =
          loss(
              type,
              new float[][] {policy[0]},
              new float[][] {ref[0]},
              new float[][] {rewards[0]},
              1f,
              1f);
      double second =
          loss(
              type,
              new float[][] {policy[1]},
              new float[][] {ref[1]},
              new float[][] {rewards[1]},
              1f,
              1f);
      assertEquals(
          (first + second) / 2, loss(type, policy, ref, rewards, 1f, 1f), 1e-5, type.name());
    }
  }

  @ParameterizedTest
  @EnumSource(LossType.class)
  void gradientsMatchCentralFiniteDifferences(LossType type) {
    Random random = new Random(7);
    int b = 2;
    int k = 4;
    float[][] policy = randomMatrix(random, b, k, -3, 1);
    float[][] ref = randomMatrix(random, b, k, -3, 1);
    float[][] rewards = randomMatrix(random, b, k, -2, 2);
    float beta = 0.7f;
    float alpha = 0.8f;
    float[] analytic = gradient(type, policy, ref, rewards, beta, alpha);
    double h = 1e-3;
    for (int i = 0; i < b; i++) {
      for (int j = 0; j < k; j++) {
        double saved = policy[i][j];
        policy[i][j] = (float) (saved + h);
        double up = reference(type, policy, ref, rewards, beta, alpha);
        policy[i][j] = (float) (saved - h);
        double down = reference(type, policy, ref, rewards, beta, alpha);
        policy[i][j] = (float) saved;
        assertEquals(
            (up - down) / (2 * h),
            analytic[i * k + j],
            2e-3,
            type + " d/dpolicy[" + i + "][" + j + "]");
      }
    }
  }

  @Test
  void gradientAtTheReferenceIsExact() {
    // Round 1 of training starts at policy = reference, where r = 0 exactly.
    float[][] zeros = {{0f, 0f, 0f, 0f}};
    float[][] rewards = {{2f, 1f, 0f, -3f}};
    double[] w = softmax(new double[] {2, 1, 0, -3});
    float[] g = gradient(LossType.NCA, zeros, zeros, rewards, 1f, 1f);
    for (int i = 0; i < 4; i++) {
      assertEquals(-w[i] * 0.5 + 0.5 / 4, g[i], 1e-6, "dNCA/dr_" + i + " at r = 0");
    }
  }

  @Test
  void infoNcaWithTwoResponsesAndColdWeightsIsDpo() {
    Random random = new Random(3);
    float[][] policy = randomMatrix(random, 5, 2, -4, 0);
    float[][] ref = randomMatrix(random, 5, 2, -4, 0);
    float[][] rewards = randomMatrix(random, 5, 2, -1, 1);
    double dpo = loss(LossType.DPO, policy, ref, rewards, 0.3f, 1f);
    assertEquals(dpo, loss(LossType.INFONCA, policy, ref, rewards, 0.3f, 1e-4f), 1e-5);
    assertNotEquals(dpo, loss(LossType.INFONCA, policy, ref, rewards, 0.3f, 1f), 1e-3);
  }

  @ParameterizedTest
  @EnumSource(LossType.class)
  void maskedLossEqualsTheLossOfTheSmallerArray(LossType type) {
    // Prompt 0 keeps responses 0, 2, 3; prompt 1 keeps 1, 3; absent slots hold garbage (NaN
    // included).
    float nan = Float.NaN;
    float[][] policy = {{-1f, nan, -2.5f, -0.5f}, {99f, -2f, 7f, -1f}};
    float[][] ref = {{-1.5f, 3f, -2f, -1f}, {nan, -1.5f, 1f, -1.2f}};
    float[][] rewards = {{0.5f, nan, 2f, -1f}, {Float.POSITIVE_INFINITY, 1f, 5f, 0.2f}};
    float[][] mask = {{1, 0, 1, 1}, {0, 1, 0, 1}};
    double masked = loss(type, policy, ref, rewards, mask, 0.4f, 0.5f);
    double first =
        loss(
            type,
            new float[][] {{-1f, -2.5f, -0.5f}},
            new float[][] {{-1.5f, -2f, -1f}},
            new float[][] {{0.5f, 2f, -1f}},
            0.4f,
            0.5f);
    double second =
        loss(
            type,
            new float[][] {{-2f, -1f}},
            new float[][] {{-1.5f, -1.2f}},
            new float[][] {{1f, 0.2f}},
            0.4f,
            0.5f);
    assertEquals((first + second) / 2, masked, 1e-5);
  }

  @ParameterizedTest
  @EnumSource(LossType.class)
  void promptsWithFewerThanTwoResponsesContributeNothing(LossType type) {
    float[][] policy = {{-1f, -2f, -3f}, {-1f, 5f, -2f}, {0f, 0f, 0f}};
    float[][] ref = {{-2f, -2f, -2f}, {-1f, -2f, -2f}, {0f, 0f, 0f}};
    float[][] rewards = {{1f, 0f, 2f}, {Float.NaN, 1f, 1f}, {0f, 0f, 0f}};
    float[][] mask = {{1, 1, 1}, {0, 1, 0}, {0, 0, 0}};
    double alone =
        loss(
            type,
            new float[][] {policy[0]},
            new float[][] {ref[0]},
            new float[][] {rewards[0]},
            1f,
            1f);
    assertEquals(alone, loss(type, policy, ref, rewards, mask, 1f, 1f), 1e-6);
    float[] grad = gradient(type, policy, ref, rewards, mask, 1f, 1f);
    for (int j = 0; j < 6; j++) {
      assertEquals(0f, grad[3 + j], 0f, "no gradient to prompts without a pair");
    }
    assertEquals(
        0.0,
        loss(type, policy, ref, rewards, new float[][] {{1, 0, 0}, {0, 0, 0}, {0, 0, 1}}, 1f, 1f));
  }

  @ParameterizedTest
  @EnumSource(LossType.class)
  void staysFiniteForHugeImplicitRewardsAndSharpWeights(LossType type) {
    float[][] policy = {{1e4f, -1e4f, 0f}, {-1e4f, -1e4f, 1e4f}};
    float[][] ref = {{-1e4f, 1e4f, 0f}, {0f, 1e4f, -1e4f}};
    float[][] rewards = {{1e4f, 0f, -1e4f}, {5e3f, -5e3f, 0f}};
    double value = loss(type, policy, ref, rewards, 1f, 0.01f);
    assertTrue(Double.isFinite(value), type + " loss " + value);
    for (float g : gradient(type, policy, ref, rewards, 1f, 0.01f)) {
      assertTrue(Float.isFinite(g), type + " gradient " + g);
    }
  }

  @Test
  void infoNcaSeesOnlyRelativeLikelihoodNcaSeesAbsolute() {
    float[][] policy = {{-2f, -3f, -4f}};
    float[][] shifted = {{-2f + 1.5f, -3f + 1.5f, -4f + 1.5f}};
    float[][] ref = {{-3f, -3f, -3f}};
    float[][] rewards = {{1f, 0f, -1f}};
    assertEquals(
        loss(LossType.INFONCA, policy, ref, rewards, 1f, 1f),
        loss(LossType.INFONCA, shifted, ref, rewards, 1f, 1f),
        1e-5);
    assertNotEquals(
        loss(LossType.NCA, policy, ref, rewards, 1f, 1f),
        loss(LossType.NCA, shifted, ref, rewards, 1f, 1f),
        1e-3);
    // So InfoNCA's gradient sums to zero over a prompt: it cannot raise every likelihood at once.
    float[] infoGrad = gradient(LossType.INFONCA, policy, ref, rewards, 1f, 1f);
    assertEquals(0f, infoGrad[0] + infoGrad[1] + infoGrad[2], 1e-6f);
  }

  @Test
  void ncaStationaryPointIsLogOfKTimesWeight() {
    float[][] rewards = {{2f, 1f, 0f, -3f}};
    double[] w = softmax(new double[] {2, 1, 0, -3});
    float[][] stationary = new float[1][4];
    for (int i = 0; i < 4; i++) {
      stationary[0][i] = (float) Math.log(4 * w[i]);
    }
    float[][] ref = {{0f, 0f, 0f, 0f}};
    for (float g : gradient(LossType.NCA, stationary, ref, rewards, 1f, 1f)) {
      assertEquals(0f, g, 1e-6f);
    }
    // Descending NCA from the reference moves every response towards it: likelihood rises exactly
    // where
    // w_i > 1/K and falls where w_i < 1/K.
    float[][] policy = {{0f, 0f, 0f, 0f}};
    for (int step = 0; step < 300; step++) {
      float[] g = gradient(LossType.NCA, policy, ref, rewards, 1f, 1f);
      for (int i = 0; i < 4; i++) {
        policy[0][i] -= 2f * g[i];
      }
    }
    for (int i = 0; i < 4; i++) {
      assertEquals(w[i] > 0.25, policy[0][i] > 0f, "response " + i + " w=" + w[i]);
      assertTrue(
          Math.abs(policy[0][i] - stationary[0][i]) < 0.5 * Math.abs(stationary[0][i]),
          "response " + i + " at " + policy[0][i] + ", heading for " + stationary[0][i]);
    }
  }

  @Test
  void rejectsBadArgumentsNamingTheProblem() {
    float[][] ok = {{0f, 1f}};
    assertMessage("beta", () -> loss(LossType.NCA, ok, ok, ok, 0f, 1f));
    assertMessage("alpha", () -> loss(LossType.NCA, ok, ok, ok, 1f, -1f));
    assertMessage(
        "rewards", () -> loss(LossType.NCA, ok, ok, new float[][] {{0f, Float.NaN}}, 1f, 1f));
    assertMessage(
        "refLogps", () -> loss(LossType.NCA, ok, new float[][] {{0f, 1f, 2f}}, ok, 1f, 1f));
    assertMessage("mask", () -> loss(LossType.NCA, ok, ok, ok, new float[][] {{1f, 0.5f}}, 1f, 1f));
    assertMessage(
        "policyLogps",
        () -> {
          NDArray flat = manager.create(new float[] {0f, 1f});
          AlignmentLosses.compute(LossType.NCA, flat, flat, flat, 1f, 1f);
        });
  }

  private static void assertMessage(String word, Runnable call) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
    assertTrue(e.getMessage().contains(word), e.getMessage());
  }

  private double loss(
      LossType type, float[][] policy, float[][] ref, float[][] rewards, float beta, float alpha) {
    return loss(type, policy, ref, rewards, ones(policy), beta, alpha);
  }

  private double loss(
      LossType type,
      float[][] policy,
      float[][] ref,
      float[][] rewards,
      float[][] mask,
      float beta,
      float alpha) {
    try (NDManager step = manager.newSubManager()) {
      return AlignmentLosses.compute(
              type,
              matrix(step, policy),
              matrix(step, ref),
              matrix(step, rewards),
              matrix(step, mask),
              beta,
              alpha)
          .getFloat();
    }
  }

  private float[] gradient(
      LossType type, float[][] policy, float[][] ref, float[][] rewards, float beta, float alpha) {
    return gradient(type, policy, ref, rewards, ones(policy), beta, alpha);
  }

  private float[] gradient(
      LossType type,
      float[][] policy,
      float[][] ref,
      float[][] rewards,
      float[][] mask,
      float beta,
      float alpha) {
    try (NDManager step = manager.newSubManager()) {
      NDArray p = matrix(step, policy);
      p.setRequiresGradient(true);
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray value =
            AlignmentLosses.compute(
                type, p, matrix(step, ref), matrix(step, rewards), matrix(step, mask), beta, alpha);
        collector.backward(value);
      }
      return p.getGradient().toFloatArray();
    }
  }

  private static NDArray matrix(NDManager m, float[][] rows) {
    int k = rows[0].length;
    float[] flat = new float[rows.length * k];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(rows[i], 0, flat, i * k, k);
    }
    return m.create(flat, new Shape(rows.length, k));
  }

  private static float[][] ones(float[][] like) {
    float[][] out = new float[like.length][like[0].length];
    for (float[] row : out) {
      java.util.Arrays.fill(row, 1f);
    }
    return out;
  }

  private static float[][] randomMatrix(Random random, int rows, int cols, double lo, double hi) {
    float[][] out = new float[rows][cols];
    for (float[] row : out) {
      for (int j = 0; j < cols; j++) {
        row[j] = (float) (lo + (hi - lo) * random.nextDouble());
      }
    }
    return out;
  }

  /** The four losses in plain double arithmetic, straight from the paper's formulas (no mask). */
  private static double reference(
      LossType type, float[][] policy, float[][] ref, float[][] rewards, float beta, float alpha) {
    double total = 0;
    for (int b = 0; b < policy.length; b++) {
      int k = policy[b].length;
      double[] r = new double[k];
      double[] scaled = new double[k];
      int c = 0;
      int rej = 0;
      for (int i = 0; i < k; i++) {
        r[i] = beta * ((double) policy[b][i] - ref[b][i]);
        scaled[i] = rewards[b][i] / (double) alpha;
        c = rewards[b][i] > rewards[b][c] ? i : c;
        rej = rewards[b][i] <= rewards[b][rej] ? i : rej;
      }
      double[] w = softmax(scaled);
      double lse = Math.log(java.util.Arrays.stream(r).map(Math::exp).sum());
      double value = 0;
      for (int i = 0; i < k; i++) {
        value +=
            switch (type) {
              case INFONCA -> -w[i] * (r[i] - lse);
              case NCA -> -w[i] * logSigmoid(r[i]) - logSigmoid(-r[i]) / k;
              default -> 0;
            };
      }
      value +=
          switch (type) {
            case DPO -> -logSigmoid(r[c] - r[rej]);
            case NCA_PAIR ->
                -logSigmoid(r[c]) - 0.5 * logSigmoid(-r[c]) - 0.5 * logSigmoid(-r[rej]);
            default -> 0;
          };
      total += value;
    }
    return total / policy.length;
  }

  private static double[] softmax(double[] x) {
    double max = java.util.Arrays.stream(x).max().orElseThrow();
    double[] e = java.util.Arrays.stream(x).map(v -> Math.exp(v - max)).toArray();
    double sum = java.util.Arrays.stream(e).sum();
    return java.util.Arrays.stream(e).map(v -> v / sum).toArray();
  }

  private static double logSigmoid(double x) {
    return Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x)));
  }
}

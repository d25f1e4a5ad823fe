package dev.ncalign.orchestrator.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.ncalign.orchestrator.loss.AlignmentLosses;
import dev.ncalign.orchestrator.loss.LossType;
import dev.ncalign.orchestrator.loss.PairChoice;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The likelihood diagnostic's best/worst response is the pair the pairwise losses train on, ties
 * and dropped responses included: there is one tie rule, so the two cannot drift.
 */
class PairChoiceAgreementTest {

  @Test
  void theDiagnosticsBestAndWorstAreThePairTheLossUses() {
    Random random = new Random(3);
    int k = 4;
    try (NDManager manager = NDManager.newBaseManager()) {
      for (int trial = 0; trial < 200; trial++) {
        float[] rewards = new float[k];
        float[] mask = new float[k];
        float[] logps = new float[k];
        List<ScoredResponse> responses = new ArrayList<>();
        for (int i = 0; i < k; i++) {
          // Rewards from {0, 1, 2} tie often; about one response in four is dropped.
          boolean present = random.nextInt(4) != 0;
          rewards[i] = present ? random.nextInt(3) : Float.NaN;
          mask[i] = present ? 1f : 0f;
          logps[i] = -1f - 3f * random.nextFloat();
          responses.add(new ScoredResponse("r" + i, new int[] {i}, rewards[i]));
        }
        ScoredPrompt prompt = new ScoredPrompt("p", new int[] {1}, responses);
        Shape shape = new Shape(1, k);
        float[] safeRewards = rewards.clone();
        for (int i = 0; i < k; i++) {
          safeRewards[i] = mask[i] == 1f ? rewards[i] : 0f;
        }

        List<PairChoice> lossChoice =
            AlignmentLosses.pairChoices(
                manager.create(safeRewards, shape), manager.create(mask, shape));
        assertEquals(List.of(prompt.pairChoice()), lossChoice, "trial " + trial);
        assertEquals(prompt.best(), lossChoice.get(0).chosen());
        assertEquals(prompt.worst(), lossChoice.get(0).rejected());

        double dpo =
            AlignmentLosses.compute(
                    LossType.DPO,
                    manager.create(logps, shape),
                    manager.zeros(shape),
                    manager.create(safeRewards, shape),
                    manager.create(mask, shape),
                    1f,
                    1f)
                .getFloat();
        double expected =
            prompt.presentCount() < 2
                ? 0
                : softplus(-(logps[prompt.best()] - logps[prompt.worst()]));
        assertEquals(expected, dpo, 1e-5, "DPO pushed apart the diagnostic's pair, trial " + trial);
      }
    }
  }

  /** −log σ(−x) = log(1 + eˣ). */
  private static double softplus(double x) {
    return Math.log1p(Math.exp(x));
  }
}

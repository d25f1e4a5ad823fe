package dev.ncalign.orchestrator.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ncalign.lm.model.AutogradScalar;
import java.util.ArrayList;
import java.util.List;

/**
 * The NCA loss family as pure functions over NDArrays.
 *
 * <p>Inputs are [B, K]: B prompts with K responses each. With r_i = β·(log π_θ(y_i|x) − log
 * π_ref(y_i|x)) and w = softmax(rewards/α) over the present responses of a prompt (K = their
 * count):
 *
 * <pre>
 *   INFONCA  = −Σ_i w_i · log softmax(r)_i
 *   NCA      = −Σ_i w_i · log σ(r_i) − (1/K) Σ_i log σ(−r_i)
 *   DPO      = −log σ(r_c − r_r)
 *   NCA_PAIR = −log σ(r_c) − ½ log σ(−r_c) − ½ log σ(−r_r)
 * </pre>
 *
 * where c is the present response with the highest reward (ties: lowest index) and r the one with
 * the lowest (ties: highest index). The result is the mean over prompts with at least two present
 * responses (0 when there is none); a prompt with fewer contributes nothing. Results live in the
 * NDManager of {@code policyLogps}, the only input gradients flow to.
 */
public final class AlignmentLosses {

  /**
   * Stands in for −∞ at absent positions: exp() of it is exactly 0, and unlike −∞ it never makes
   * NaN.
   */
  private static final float ABSENT = -1e30f;

  private AlignmentLosses() {}

  /**
   * {@link #compute(LossType, NDArray, NDArray, NDArray, NDArray, float, float)} with every
   * response present.
   */
  public static NDArray compute(
      LossType type,
      NDArray policyLogps,
      NDArray refLogps,
      NDArray rewards,
      float beta,
      float alpha) {
    NDArray mask = policyLogps.onesLike().toType(DataType.FLOAT32, false);
    return compute(type, policyLogps, refLogps, rewards, mask, beta, alpha);
  }

  /**
   * The loss of {@code type}, a scalar.
   *
   * @param policyLogps [B, K] sequence log-probs under the trained policy (gradients flow here)
   * @param refLogps [B, K] sequence log-probs under the frozen reference
   * @param rewards [B, K] one explicit reward per response
   * @param mask [B, K] 1 where a response is present, 0 where it is padding or was dropped
   * @param beta scale of the implicit reward, &gt; 0
   * @param alpha reward temperature of the target weights, &gt; 0
   * @throws IllegalArgumentException naming the problem on bad shapes, parameters or rewards
   */
  public static NDArray compute(
      LossType type,
      NDArray policyLogps,
      NDArray refLogps,
      NDArray rewards,
      NDArray mask,
      float beta,
      float alpha) {
    ResponseMask present = ResponseMask.of(policyLogps, refLogps, rewards, mask, beta, alpha);
    NDArray logRatio = policyLogps.sub(refLogps);
    NDArray r = present.fill(logRatio.mul(AutogradScalar.of(logRatio, beta)), 0f);
    NDArray perPrompt =
        switch (type) {
          case INFONCA -> infoNca(r, present.weights(rewards, alpha), present);
          case NCA -> nca(r, present.weights(rewards, alpha), present);
          case DPO, NCA_PAIR -> {
            List<PairChoice> pairs = present.choices(rewards);
            NDArray chosen = present.pick(r, present.oneHot(pairs, true));
            NDArray rejected = present.pick(r, present.oneHot(pairs, false));
            yield type == LossType.DPO ? dpo(chosen, rejected) : ncaPair(chosen, rejected);
          }
        };
    return present.meanOverValidPrompts(perPrompt);
  }

  /**
   * The best/worst pair {@link #compute} trains DPO and NCA-pair on, one per prompt (row) of {@code
   * rewards} [B, K] under {@code mask} [B, K]; the likelihood diagnostic reports the same pair.
   */
  public static List<PairChoice> pairChoices(NDArray rewards, NDArray mask) {
    float[] m = mask.toType(DataType.FLOAT32, false).toFloatArray();
    Shape shape = rewards.getShape();
    return new ResponseMask(mask, m, shape.get(0), (int) shape.get(1)).choices(rewards);
  }

  /** −Σ_i w_i · log softmax(r)_i, per prompt. */
  static NDArray infoNca(NDArray r, NDArray w, ResponseMask present) {
    NDArray logSoftmax = present.fill(r, ABSENT).logSoftmax(1);
    return w.mul(logSoftmax).sum(new int[] {1}).neg();
  }

  /** −Σ_i w_i · log σ(r_i) − (1/K) Σ_i log σ(−r_i), per prompt. */
  static NDArray nca(NDArray r, NDArray w, ResponseMask present) {
    NDArray dataTerm = w.mul(logSigmoid(r)).sum(new int[] {1});
    NDArray noiseTerm =
        present.fill(logSigmoid(r.neg()), 0f).sum(new int[] {1}).div(present.countsOrOne());
    return dataTerm.add(noiseTerm).neg();
  }

  /** −log σ(r_c − r_r), per prompt. */
  static NDArray dpo(NDArray rChosen, NDArray rRejected) {
    return logSigmoid(rChosen.sub(rRejected)).neg();
  }

  /** −log σ(r_c) − ½ log σ(−r_c) − ½ log σ(−r_r), per prompt. */
  static NDArray ncaPair(NDArray rChosen, NDArray rRejected) {
    NDArray half = AutogradScalar.of(rChosen, 0.5f);
    return logSigmoid(rChosen)
        .add(logSigmoid(rChosen.neg()).mul(half))
        .add(logSigmoid(rRejected.neg()).mul(half))
        .neg();
  }

  /**
   * log σ(x) = min(x, 0) − log(1 + e^−|x|): never exponentiates a positive number, so finite for
   * any finite x. min(x, 0) is written (x − |x|)/2 so its gradient at x = 0 is ½, not the 0 or 1 a
   * clamp gives: training starts exactly there (policy = reference).
   */
  static NDArray logSigmoid(NDArray x) {
    return x.sub(x.abs()).div(AutogradScalar.of(x, 2f)).sub(x.abs().neg().exp().add(1f).log());
  }

  /**
   * Checked inputs plus the per-prompt bookkeeping every loss needs (which responses are present).
   */
  static final class ResponseMask {
    private final NDArray mask;
    private final float[] maskValues;
    private final long batch;
    private final int k;

    private ResponseMask(NDArray mask, float[] maskValues, long batch, int k) {
      this.mask = mask;
      this.maskValues = maskValues;
      this.batch = batch;
      this.k = k;
    }

    static ResponseMask of(
        NDArray policyLogps,
        NDArray refLogps,
        NDArray rewards,
        NDArray mask,
        float beta,
        float alpha) {
      Shape shape = policyLogps.getShape();
      if (shape.dimension() != 2) {
        throw new IllegalArgumentException("policyLogps must be [B, K], got " + shape);
      }
      requireShape("refLogps", refLogps, shape);
      requireShape("rewards", rewards, shape);
      requireShape("mask", mask, shape);
      if (!(beta > 0f) || !Float.isFinite(beta)) {
        throw new IllegalArgumentException("beta must be a finite number > 0, got " + beta);
      }
      if (!(alpha > 0f) || !Float.isFinite(alpha)) {
        throw new IllegalArgumentException("alpha must be a finite number > 0, got " + alpha);
      }
      float[] m = mask.toType(DataType.FLOAT32, false).toFloatArray();
      float[] rw = rewards.toType(DataType.FLOAT32, false).toFloatArray();
      for (int i = 0; i < m.length; i++) {
        if (m[i] != 0f && m[i] != 1f) {
          throw new IllegalArgumentException(
              "mask must hold only 0 and 1, got " + m[i] + " at flat index " + i);
        }
        if (m[i] == 1f && !Float.isFinite(rw[i])) {
          throw new IllegalArgumentException(
              "rewards must be finite where mask is 1, got "
                  + rw[i]
                  + " at ["
                  + i / shape.get(1)
                  + ", "
                  + i % shape.get(1)
                  + "]");
        }
      }
      NDArray floatMask = policyLogps.getManager().create(m, shape);
      return new ResponseMask(floatMask, m, shape.get(0), (int) shape.get(1));
    }

    private static void requireShape(String name, NDArray array, Shape expected) {
      if (!array.getShape().equals(expected)) {
        throw new IllegalArgumentException(
            name + " must have the shape of policyLogps " + expected + ", got " + array.getShape());
      }
    }

    /** x where present, {@code absentValue} elsewhere (so NaN padding cannot leak into sums). */
    NDArray fill(NDArray x, float absentValue) {
      return NDArrays.where(
          mask.toType(DataType.BOOLEAN, false), x, x.zerosLike().add(absentValue));
    }

    /** w = softmax(rewards/α) over the present responses of each prompt; 0 where absent. */
    NDArray weights(NDArray rewards, float alpha) {
      NDArray scaled = fill(rewards.toType(DataType.FLOAT32, true).div(alpha), ABSENT);
      NDArray shifted = scaled.sub(scaled.max(new int[] {1}, true));
      NDArray e = shifted.exp().mul(mask);
      return e.div(e.sum(new int[] {1}, true).maximum(Float.MIN_NORMAL));
    }

    /** Present responses per prompt, [B], with 1 in place of 0 so it can divide. */
    NDArray countsOrOne() {
      return mask.sum(new int[] {1}).maximum(1f);
    }

    /** The pair each prompt's pairwise loss uses, prompt by prompt. */
    List<PairChoice> choices(NDArray rewards) {
      float[] rw = rewards.toType(DataType.FLOAT32, false).toFloatArray();
      boolean[] present = new boolean[maskValues.length];
      for (int i = 0; i < present.length; i++) {
        present[i] = maskValues[i] != 0f;
      }
      List<PairChoice> out = new ArrayList<>((int) batch);
      for (int b = 0; b < batch; b++) {
        out.add(PairChoice.of(rw, present, b * k, k));
      }
      return out;
    }

    /** One-hot [B, K] of each prompt's chosen (or rejected) response; all zero without one. */
    NDArray oneHot(List<PairChoice> choices, boolean chosen) {
      float[] hot = new float[maskValues.length];
      for (int b = 0; b < batch; b++) {
        int index = chosen ? choices.get(b).chosen() : choices.get(b).rejected();
        if (index >= 0) {
          hot[b * k + index] = 1f;
        }
      }
      return mask.getManager().create(hot, mask.getShape());
    }

    /** Σ_i x_i · oneHot_i per prompt: the entry the one-hot selects, [B]. */
    NDArray pick(NDArray x, NDArray oneHot) {
      return x.mul(oneHot).sum(new int[] {1});
    }

    /** Mean of the per-prompt losses [B] over prompts with at least two present responses. */
    NDArray meanOverValidPrompts(NDArray perPrompt) {
      NDArray valid = mask.sum(new int[] {1}).gte(2f).toType(DataType.FLOAT32, false);
      NDArray safe =
          NDArrays.where(valid.toType(DataType.BOOLEAN, false), perPrompt, perPrompt.zerosLike());
      return safe.sum().div(valid.sum().maximum(1f));
    }
  }
}

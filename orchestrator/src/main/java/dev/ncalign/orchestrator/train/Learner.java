package dev.ncalign.orchestrator.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.ncalign.lm.model.AutogradScalar;
import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.orchestrator.loss.AlignmentLosses;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * Trains a policy on rounds of explicitly rewarded responses with an {@link AlignmentLosses}
 * objective.
 *
 * <p>Reference log-probs come from the frozen initial model, computed once per round: a copy for
 * full fine-tuning, or, for LoRA, the base model the policy's adapters sit on (adapters off, no
 * second copy). The policy's come with gradients, minibatch by minibatch, under a token budget; the
 * optimizer holds state only for {@link CausalLm#trainableParameters()}.
 */
public final class Learner implements AutoCloseable {
  private final CausalLm policy;
  private final CausalLm reference;
  private final LearnerSettings settings;
  private final AdamW optimizer;
  private final Random random;

  /**
   * @param policy the model to train (its parameters are updated in place)
   * @param reference the frozen reference π_ref, never updated
   */
  public Learner(CausalLm policy, CausalLm reference, LearnerSettings settings, long seed) {
    this.policy = policy;
    this.reference = reference;
    this.settings = settings;
    this.optimizer =
        new AdamW(
            policy.trainableParameters(),
            settings.schedule(),
            settings.weightDecay(),
            settings.maxGradNorm());
    this.random = new Random(seed);
  }

  /** The optimizer, for checkpointing its state. */
  public AdamW optimizer() {
    return optimizer;
  }

  /**
   * The random generator that shuffles minibatches; reseed it on resume so a run replays exactly.
   */
  public void reseed(long seed) {
    random.setSeed(seed);
  }

  /**
   * Runs the configured epochs of updates on one round's batch. Each optimizer step minimises the
   * mean loss over the prompts it holds (see {@link #accumulate}), however the token budget cut
   * them into minibatches; the reported loss is the mean over every prompt visit of the round.
   */
  public RoundUpdate update(RewardBatch batch) {
    return update(batch, referenceLogprobs(batch));
  }

  /**
   * log π_ref of every response of {@code batch}, [prompt][response]: the half of a round's work
   * that reads only the frozen reference, so another thread may run it (for the next round) while
   * {@link #update} trains.
   */
  public double[][] referenceLogprobs(RewardBatch batch) {
    return SequenceScorer.score(reference, batch.prompts(), settings.minibatchTokens());
  }

  /**
   * {@link #update(RewardBatch)} with the batch's {@link #referenceLogprobs} already scored.
   *
   * @param ref log π_ref of every response of {@code batch}, [prompt][response]
   */
  public RoundUpdate update(RewardBatch batch, double[][] ref) {
    List<ScoredPrompt> prompts = batch.prompts();
    if (ref.length != prompts.size()) {
      throw new IllegalArgumentException(
          "reference log-probs for " + ref.length + " prompts, batch has " + prompts.size());
    }
    double[][] before = SequenceScorer.score(policy, prompts, settings.minibatchTokens());
    double lossSum = 0;
    int lossPrompts = 0;
    double normSum = 0;
    int steps = 0;
    List<Integer> order = new ArrayList<>(IntStream.range(0, prompts.size()).boxed().toList());
    for (int epoch = 0; epoch < settings.epochs(); epoch++) {
      Collections.shuffle(order, random);
      for (List<List<Integer>> step :
          OptimizerSteps.of(
              prompts, order, settings.minibatchTokens(), settings.gradAccumulation())) {
        StepLoss loss = accumulate(prompts, step, ref);
        if (loss.prompts() == 0) {
          continue; // nothing to learn from: no gradient, and no step to move the weights anyway
        }
        lossSum += loss.sum();
        lossPrompts += loss.prompts();
        normSum += optimizer.step();
        steps++;
      }
    }
    double[][] after = SequenceScorer.score(policy, prompts, settings.minibatchTokens());
    return LikelihoodDiagnostic.summarize(
        prompts,
        before,
        after,
        lossPrompts == 0 ? Double.NaN : lossSum / lossPrompts,
        steps,
        normSum / Math.max(1, steps));
  }

  /** The summed per-prompt losses of one step and how many prompts took part. */
  record StepLoss(double sum, int prompts) {}

  /**
   * Accumulates, in the parameters' gradients, the gradient of one step's objective: the mean loss
   * over the step's contributing prompts. A minibatch's loss is itself a mean over its own
   * contributing prompts, so it is weighed by its share of the step's prompts; a prompt in a short
   * minibatch then counts exactly as much as one in a long minibatch.
   */
  StepLoss accumulate(List<ScoredPrompt> prompts, List<List<Integer>> step, double[][] ref) {
    int stepPrompts = step.stream().mapToInt(mb -> OptimizerSteps.contributing(prompts, mb)).sum();
    double sum = 0;
    for (List<Integer> minibatch : step) {
      int count = OptimizerSteps.contributing(prompts, minibatch);
      if (count > 0) {
        sum += count * backward(prompts, minibatch, ref, (float) count / stepPrompts);
      }
    }
    return new StepLoss(sum, stepPrompts);
  }

  /**
   * KL(π‖π_ref) of the policy that sampled {@code onPolicy}, estimated on those samples: the mean
   * over present responses of Σ log π, the sampler's own per-token log-probs, minus Σ log π_ref,
   * scored here. Taking π's half from the server that sampled makes it the KL of the weights that
   * server actually served (a BF16 push included), and lets the estimate come after the learner has
   * moved on to the next update. Reads only the reference, like {@link #referenceLogprobs}.
   *
   * @throws IllegalArgumentException if a present response carries no {@link Sample}
   */
  public double kl(RewardBatch onPolicy) {
    List<ScoredPrompt> prompts = onPolicy.prompts();
    double[][] sampled = new double[prompts.size()][];
    for (int p = 0; p < prompts.size(); p++) {
      List<ScoredResponse> responses = prompts.get(p).responses();
      sampled[p] = new double[responses.size()];
      for (int k = 0; k < responses.size(); k++) {
        ScoredResponse response = responses.get(k);
        if (response.present() && response.sample() == null) {
          throw new IllegalArgumentException(
              "response '" + response.text() + "' has no sampler log-probs to estimate a KL from");
        }
        sampled[p][k] = response.present() ? response.sample().sumLogprob() : 0;
      }
    }
    return LikelihoodDiagnostic.meanLogRatio(prompts, sampled, referenceLogprobs(onPolicy));
  }

  /**
   * Forward + backward of one minibatch's loss times {@code weight}; gradients accumulate in the
   * parameters. Returns its (unweighted) loss, the mean over its contributing prompts.
   */
  private double backward(
      List<ScoredPrompt> prompts, List<Integer> minibatch, double[][] ref, float weight) {
    int k = minibatch.stream().mapToInt(i -> prompts.get(i).responses().size()).max().orElseThrow();
    int b = minibatch.size();
    SequenceScorer.FlatResponses flat = SequenceScorer.FlatResponses.of(prompts, minibatch);
    long[] slot = new long[b * k];
    float[] refRows = new float[b * k];
    float[] rewards = new float[b * k];
    float[] mask = new float[b * k];
    int n = flat.responseIds().size();
    int at = 0;
    for (int row = 0; row < b; row++) {
      int index = minibatch.get(row);
      List<ScoredResponse> responses = prompts.get(index).responses();
      for (int col = 0; col < k; col++) {
        int cell = row * k + col;
        boolean exists = col < responses.size();
        // Padding cells read the extra zero appended after the n real log-probs.
        slot[cell] = exists ? at++ : n;
        refRows[cell] = exists ? (float) ref[index][col] : 0f;
        rewards[cell] = exists ? responses.get(col).reward() : 0f;
        mask[cell] = exists && responses.get(col).present() ? 1f : 0f;
      }
    }
    Shape shape = new Shape(b, k);
    try (NDManager scope = policy.manager().newSubManager();
        GradientCollector collector = Engine.getInstance().newGradientCollector()) {
      NDArray sums = policy.logprobs(scope, flat.promptIds(), flat.responseIds(), true).sums();
      NDArray policyLogps =
          sums.concat(scope.zeros(new Shape(1))).take(scope.create(slot)).reshape(shape);
      NDArray loss =
          AlignmentLosses.compute(
              settings.loss(),
              policyLogps,
              scope.create(refRows, shape),
              scope.create(rewards, shape),
              scope.create(mask, shape),
              settings.beta(),
              settings.alpha());
      collector.backward(loss.mul(AutogradScalar.of(loss, weight)));
      return loss.getFloat();
    }
  }

  @Override
  public void close() {
    optimizer.close();
  }
}

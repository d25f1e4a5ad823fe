package dev.ncalign.orchestrator.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.ncalign.lm.model.AutogradScalar;
import dev.ncalign.lm.model.CausalLm;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.DoubleConsumer;
import java.util.stream.IntStream;

/**
 * Supervised fine-tuning: cross-entropy on response tokens given the prompt (prompt tokens masked
 * out), with the learner's optimizer and token-budgeted minibatches. Every response of every prompt
 * is a target.
 */
public final class SupervisedFineTuning {
  private final CausalLm model;
  private final AdamW optimizer;
  private final int tokenBudget;
  private final Random random;

  public SupervisedFineTuning(CausalLm model, AdamW optimizer, int tokenBudget, long seed) {
    this.model = model;
    this.optimizer = optimizer;
    this.tokenBudget = tokenBudget;
    this.random = new Random(seed);
  }

  /**
   * Runs {@code epochs} passes over {@code examples}, one optimizer step per minibatch.
   *
   * @param onStep receives each step's mean negative log-likelihood per response token (nats)
   * @return the mean per-token loss of the last epoch
   */
  public double train(List<ScoredPrompt> examples, int epochs, DoubleConsumer onStep) {
    List<Integer> order = new ArrayList<>(IntStream.range(0, examples.size()).boxed().toList());
    double lastEpoch = Double.NaN;
    for (int epoch = 0; epoch < epochs; epoch++) {
      Collections.shuffle(order, random);
      double sum = 0;
      int count = 0;
      for (List<Integer> minibatch : RewardBatch.minibatches(examples, order, tokenBudget)) {
        double loss = step(examples, minibatch);
        onStep.accept(loss);
        sum += loss;
        count++;
      }
      lastEpoch = sum / count;
    }
    return lastEpoch;
  }

  private double step(List<ScoredPrompt> examples, List<Integer> minibatch) {
    SequenceScorer.FlatResponses flat = SequenceScorer.FlatResponses.of(examples, minibatch);
    long tokens = flat.responseIds().stream().mapToLong(ids -> ids.length).sum();
    double loss;
    try (NDManager scope = model.manager().newSubManager();
        GradientCollector collector = Engine.getInstance().newGradientCollector()) {
      NDArray sums = model.logprobs(scope, flat.promptIds(), flat.responseIds(), true).sums();
      NDArray total = sums.sum().neg();
      NDArray nll = total.div(AutogradScalar.of(total, Math.max(1L, tokens)));
      collector.backward(nll);
      loss = nll.getFloat();
    }
    optimizer.step();
    return loss;
  }
}

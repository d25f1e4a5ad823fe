package dev.ncalign.demo;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.ncalign.reward.model.EncodedInput;
import dev.ncalign.reward.model.PaddedBatch;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Fits {@link RewardNet} by least-squares regression of its output onto target rewards, with Adam
 * and DJL autograd on the PyTorch engine.
 */
final class RewardNetTrainer {

  /** One training example: tokens and the reward to predict. */
  record Target(EncodedInput input, float reward) {}

  /** Sizes and schedule; the defaults fit the review task in seconds on two cores. */
  record Settings(
      int embeddingDim, int channels, int hidden, int epochs, int batchSize, float learningRate) {
    static Settings defaults() {
      return new Settings(16, 48, 32, 16, 64, 0.005f);
    }

    /** These settings with another number of passes over the data. */
    Settings withEpochs(int epochs) {
      return new Settings(embeddingDim, channels, hidden, epochs, batchSize, learningRate);
    }
  }

  private RewardNetTrainer() {}

  /**
   * Returns a net whose weights live in {@code manager}; data order and init come from {@code
   * seed}. libtorch runs on one intra-op thread meanwhile (restored afterwards): the ops are tiny,
   * and on a busy two-core machine two threads made each step about ten times slower.
   */
  static RewardNet fit(
      NDManager manager, List<Target> data, int vocabularySize, Settings settings, long seed) {
    int threads = JniUtils.getNumThreads();
    JniUtils.setNumThreads(1);
    try {
      return fitOnCurrentThreads(manager, data, vocabularySize, settings, seed);
    } finally {
      JniUtils.setNumThreads(threads);
    }
  }

  private static RewardNet fitOnCurrentThreads(
      NDManager manager, List<Target> data, int vocabularySize, Settings settings, long seed) {
    RewardNet net =
        RewardNet.initialise(
            manager,
            vocabularySize,
            settings.embeddingDim(),
            settings.channels(),
            settings.hidden(),
            seed);
    Map<String, NDArray> weights = net.weights();
    weights.values().forEach(w -> w.setRequiresGradient(true));
    Optimizer adam =
        Optimizer.adam().optLearningRateTracker(Tracker.fixed(settings.learningRate())).build();
    List<Target> order = new ArrayList<>(data);
    Random rng = new Random(seed);
    for (int epoch = 0; epoch < settings.epochs(); epoch++) {
      Collections.shuffle(order, rng);
      for (int start = 0; start < order.size(); start += settings.batchSize()) {
        step(
            manager,
            net,
            order.subList(start, Math.min(order.size(), start + settings.batchSize())));
        for (Map.Entry<String, NDArray> weight : weights.entrySet()) {
          try (NDArray gradient = weight.getValue().getGradient()) {
            adam.update(weight.getKey(), weight.getValue(), gradient);
            // PyTorch accumulates gradients across backward passes; clear them for the next step.
            gradient.subi(gradient);
          }
        }
      }
    }
    weights.values().forEach(w -> w.setRequiresGradient(false));
    return net;
  }

  private static void step(NDManager manager, RewardNet net, List<Target> batch) {
    PaddedBatch padded =
        PaddedBatch.of(batch.stream().map(Target::input).toList(), ReviewTokenizer.PAD_ID);
    float[] rewards = new float[batch.size()];
    for (int i = 0; i < rewards.length; i++) {
      rewards[i] = batch.get(i).reward();
    }
    // A sub-manager per step: every intermediate array is freed when it closes.
    try (NDManager stepManager = manager.newSubManager();
        GradientCollector collector = Engine.getInstance().newGradientCollector()) {
      Shape shape = new Shape(padded.shape());
      NDArray ids = stepManager.create(padded.inputIds(), shape);
      NDArray mask = stepManager.create(padded.attentionMask(), shape);
      NDArray target = stepManager.create(rewards, new Shape(rewards.length, 1));
      NDArray loss = net.forward(ids, mask).sub(target).square().mean();
      collector.backward(loss);
    }
  }
}

package dev.ncalign.demo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv1d;
import ai.djl.nn.core.Embedding;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The embedded reward model's computation in DJL, on named weight arrays.
 *
 * <pre>
 * x      = embeddings[input_ids] * mask                      [B, T, D]  pads become zeros
 * h      = relu(conv1d(x, width 3, same padding))            [B, C, T]  sees word order (trigrams)
 * pooled = [masked mean of h, masked max of h,              [B, 2C+2]
 *           length/64, distinct tokens/length]
 * logits = relu(pooled · W1 + b1) · W2 + b2                  [B, 1]
 * </pre>
 *
 * Zeroing pad embeddings makes a padded position look exactly like the convolution's own zero
 * padding, so a sequence scores the same alone or in a padded batch. The max over {@code relu(h) *
 * mask} equals the max over real positions because relu outputs are never negative. The tokenizer's
 * {@code <eos>} lets the last window see whether the text ended with "." (the end-of-text signal),
 * the length feature lets the head penalise run-ons, and the share of distinct tokens exposes
 * repetition, which pooling alone cannot see (a sentence said five times pools like the sentence
 * said once).
 *
 * <p>{@link RewardNetOnnxWriter} writes the same computation as an ONNX graph with these weight
 * names.
 */
public final class RewardNet {

  /** Token embeddings [V, D]. */
  public static final String EMBEDDINGS = "embeddings.weight";

  /** Convolution kernel [C, D, 3]. */
  public static final String CONV_WEIGHT = "conv.weight";

  /** Convolution bias [C]. */
  public static final String CONV_BIAS = "conv.bias";

  /** Hidden layer [2C+2, H]. */
  public static final String DENSE_WEIGHT = "head.dense.weight";

  /** Hidden bias [H]. */
  public static final String DENSE_BIAS = "head.dense.bias";

  /** Output layer [H, 1]. */
  public static final String OUT_WEIGHT = "head.out.weight";

  /** Output bias [1]. */
  public static final String OUT_BIAS = "head.out.bias";

  /** Convolution width: each output sees a token and its two neighbours. */
  public static final int KERNEL = 3;

  /** Divides the token count into the length feature, keeping it near [0, 1]. */
  public static final float LENGTH_SCALE = 64f;

  /**
   * Every weight's name, in the order {@link #weights()} lists them and the ONNX file holds them.
   */
  public static final List<String> NAMES =
      List.of(EMBEDDINGS, CONV_WEIGHT, CONV_BIAS, DENSE_WEIGHT, DENSE_BIAS, OUT_WEIGHT, OUT_BIAS);

  private final Map<String, NDArray> weights;

  /**
   * Wraps existing weights (e.g. read back from an ONNX file), keyed by the names above; other
   * entries are ignored.
   *
   * @throws IllegalArgumentException naming a weight that is missing
   */
  public RewardNet(Map<String, NDArray> weights) {
    // Kept in NAMES order, not copied with Map.copyOf: that map iterates in an order salted per
    // JVM, so every build wrote the ONNX initializers in another order: same weights, other bytes.
    Map<String, NDArray> ordered = new LinkedHashMap<>();
    for (String name : NAMES) {
      NDArray weight = weights.get(name);
      if (weight == null) {
        throw new IllegalArgumentException(
            "reward net weight " + name + " missing; got " + weights.keySet());
      }
      ordered.put(name, weight);
    }
    this.weights = Collections.unmodifiableMap(ordered);
  }

  /** Randomly initialised weights in {@code manager}, seeded. */
  public static RewardNet initialise(
      NDManager manager,
      int vocabularySize,
      int embeddingDim,
      int channels,
      int hidden,
      long seed) {
    Random rng = new Random(seed);
    Map<String, NDArray> weights = new LinkedHashMap<>();
    weights.put(EMBEDDINGS, gaussian(manager, rng, new Shape(vocabularySize, embeddingDim), 0.5));
    weights.put(
        CONV_WEIGHT,
        gaussian(
            manager,
            rng,
            new Shape(channels, embeddingDim, KERNEL),
            Math.sqrt(2.0 / (embeddingDim * KERNEL))));
    weights.put(CONV_BIAS, manager.zeros(new Shape(channels)));
    int pooled = 2 * channels + 2;
    weights.put(
        DENSE_WEIGHT, gaussian(manager, rng, new Shape(pooled, hidden), Math.sqrt(2.0 / pooled)));
    weights.put(DENSE_BIAS, manager.zeros(new Shape(hidden)));
    weights.put(OUT_WEIGHT, gaussian(manager, rng, new Shape(hidden, 1), Math.sqrt(1.0 / hidden)));
    weights.put(OUT_BIAS, manager.zeros(new Shape(1)));
    return new RewardNet(weights);
  }

  /** The weights by name, in {@link #NAMES} order. */
  public Map<String, NDArray> weights() {
    return new LinkedHashMap<>(weights);
  }

  /**
   * Rewards for a right-padded batch.
   *
   * @param inputIds int64 [B, T]
   * @param attentionMask int64 [B, T], 1 for real tokens
   * @return float32 [B, 1]; arrays are created in the manager of {@code inputIds}
   */
  public NDArray forward(NDArray inputIds, NDArray attentionMask) {
    NDArray mask = attentionMask.toType(DataType.FLOAT32, false);
    NDArray embedded =
        Embedding.embedding(inputIds, weights.get(EMBEDDINGS), SparseFormat.DENSE)
            .singletonOrThrow();
    NDArray x = embedded.mul(mask.expandDims(2));
    NDArray h =
        Conv1d.conv1d(
                x.transpose(0, 2, 1),
                weights.get(CONV_WEIGHT),
                weights.get(CONV_BIAS),
                new Shape(1),
                new Shape(KERNEL / 2),
                new Shape(1),
                1)
            .singletonOrThrow();
    NDArray masked = Activation.relu(h).mul(mask.expandDims(1));
    NDArray count = mask.sum(new int[] {1}, true);
    NDArray mean = masked.sum(new int[] {2}).div(count);
    NDArray max = masked.max(new int[] {2});
    NDArray pooled =
        NDArrays.concat(
            new NDList(mean, max, count.div(LENGTH_SCALE), distinct(inputIds, mask).div(count)), 1);
    NDArray hidden =
        Activation.relu(pooled.matMul(weights.get(DENSE_WEIGHT)).add(weights.get(DENSE_BIAS)));
    return hidden.matMul(weights.get(OUT_WEIGHT)).add(weights.get(OUT_BIAS));
  }

  /** Number of distinct token ids among the real tokens of each row, [B, 1]. */
  private NDArray distinct(NDArray inputIds, NDArray mask) {
    int vocabulary = (int) weights.get(EMBEDDINGS).getShape().get(0);
    NDArray present = inputIds.oneHot(vocabulary).mul(mask.expandDims(2)).max(new int[] {1});
    return present.sum(new int[] {1}, true);
  }

  private static NDArray gaussian(NDManager manager, Random rng, Shape shape, double std) {
    float[] values = new float[(int) shape.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (rng.nextGaussian() * std);
    }
    return manager.create(values, shape);
  }
}

package dev.ncalign.lm.sampling;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The Java token chooser the sampler used before sampling moved onto the device, kept as the
 * reference the device version must match: in HF's processor order temperature, top-k, top-p;
 * greedy (argmax) when the temperature is 0; one {@code nextDouble()} per sampled token.
 */
final class ReferenceTokenChooser {

  private final SamplingOptions options;

  ReferenceTokenChooser(SamplingOptions options) {
    this.options = options;
  }

  /** Chooses a token from {@code logits[offset .. offset + vocab)}. */
  int choose(float[] logits, int offset, int vocab, SplittableRandom random) {
    if (options.greedy()) {
      int best = 0;
      for (int v = 1; v < vocab; v++) {
        if (logits[offset + v] > logits[offset + best]) {
          best = v;
        }
      }
      return best;
    }
    int[] candidates = candidates(logits, offset, vocab);
    double max = Double.NEGATIVE_INFINITY;
    for (int v : candidates) {
      max = Math.max(max, logits[offset + v]);
    }
    double[] weights = new double[candidates.length];
    double total = 0;
    for (int i = 0; i < candidates.length; i++) {
      weights[i] = Math.exp((logits[offset + candidates[i]] - max) / options.temperature());
      total += weights[i];
    }
    if (options.topP() < 1f) {
      int kept = nucleusSize(weights, total);
      weights = Arrays.copyOf(weights, kept);
      total = Arrays.stream(weights).sum();
    }
    double u = random.nextDouble() * total;
    for (int i = 0; i < weights.length; i++) {
      u -= weights[i];
      if (u < 0) {
        return candidates[i];
      }
    }
    return candidates[weights.length - 1];
  }

  /** log softmax(logits)[token] in double. */
  static double logprob(float[] logits, int offset, int vocab, int token) {
    double max = Double.NEGATIVE_INFINITY;
    for (int v = 0; v < vocab; v++) {
      max = Math.max(max, logits[offset + v]);
    }
    double total = 0;
    for (int v = 0; v < vocab; v++) {
      total += Math.exp(logits[offset + v] - max);
    }
    return logits[offset + token] - max - Math.log(total);
  }

  /**
   * Token ids that may be sampled: all of them, or the top-k; sorted by decreasing logit whenever
   * top-p needs the order.
   */
  private int[] candidates(float[] logits, int offset, int vocab) {
    boolean truncateK = options.topK() > 0 && options.topK() < vocab;
    if (!truncateK && options.topP() >= 1f) {
      int[] all = new int[vocab];
      Arrays.setAll(all, v -> v);
      return all;
    }
    // Sort (descending logit, ascending id) by packing both into one primitive long per token.
    long[] keys = new long[vocab];
    for (int v = 0; v < vocab; v++) {
      keys[v] = ((long) descendingKey(logits[offset + v]) << 32) | v;
    }
    Arrays.sort(keys);
    int count = truncateK ? options.topK() : vocab;
    int[] sorted = new int[count];
    for (int i = 0; i < count; i++) {
      sorted[i] = (int) keys[i];
    }
    return sorted;
  }

  /** Smallest prefix (in decreasing probability) whose mass reaches top_p; at least one token. */
  private int nucleusSize(double[] sortedWeights, double total) {
    double cumulative = 0;
    for (int i = 0; i < sortedWeights.length; i++) {
      cumulative += sortedWeights[i];
      if (cumulative >= options.topP() * total) {
        return i + 1;
      }
    }
    return sortedWeights.length;
  }

  /**
   * An int that sorts ascending as the float sorts descending (sign-magnitude to two's complement,
   * negated).
   */
  private static int descendingKey(float value) {
    int bits = Float.floatToIntBits(value);
    int ascending = bits < 0 ? bits ^ 0x7fffffff : bits;
    return ~ascending;
  }
}

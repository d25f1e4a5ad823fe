package dev.ncalign.lm.sampling;

import java.util.List;

/**
 * How to sample. Invalid values throw {@link IllegalArgumentException} naming the field.
 *
 * @param maxNewTokens tokens to generate at most per completion, ≥ 1
 * @param temperature ≥ 0; 0 is greedy decoding, 1 the unchanged policy
 * @param topP nucleus mass in (0, 1]; 1 keeps every token
 * @param topK keep the k most likely tokens; 0 means no limit
 * @param seed the same seed, prompts and weights give the same completions
 * @param stop strings that end a completion (kept out of its text)
 */
public record SamplingOptions(
    int maxNewTokens,
    float temperature,
    float topP,
    int topK,
    long seed,
    List<String> stop,
    int firstPromptIndex) {

  public SamplingOptions {
    if (maxNewTokens < 1) {
      throw new IllegalArgumentException("max_new_tokens must be ≥ 1, got " + maxNewTokens);
    }
    if (!(temperature >= 0) || Float.isInfinite(temperature)) {
      throw new IllegalArgumentException(
          "temperature must be a finite number ≥ 0, got " + temperature);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new IllegalArgumentException("top_p must be in (0, 1], got " + topP);
    }
    if (topK < 0) {
      throw new IllegalArgumentException("top_k must be ≥ 0, got " + topK);
    }
    if (firstPromptIndex < 0) {
      throw new IllegalArgumentException("first_prompt_index must be ≥ 0, got " + firstPromptIndex);
    }
    stop = List.copyOf(stop);
    if (stop.stream().anyMatch(String::isEmpty)) {
      throw new IllegalArgumentException("stop strings must not be empty");
    }
  }

  /** Options for a whole batch (its first prompt is prompt 0 of the random streams). */
  public SamplingOptions(
      int maxNewTokens, float temperature, float topP, int topK, long seed, List<String> stop) {
    this(maxNewTokens, temperature, topP, topK, seed, stop, 0);
  }

  /** Plain sampling from the policy (temperature 1, no truncation, no stop strings). */
  public static SamplingOptions of(int maxNewTokens, long seed) {
    return new SamplingOptions(maxNewTokens, 1f, 1f, 0, seed, List.of());
  }

  /** Greedy decoding. */
  public static SamplingOptions greedy(int maxNewTokens) {
    return new SamplingOptions(maxNewTokens, 0f, 1f, 0, 0, List.of());
  }

  /** Whether tokens are chosen by argmax. */
  public boolean greedy() {
    return temperature == 0f;
  }
}

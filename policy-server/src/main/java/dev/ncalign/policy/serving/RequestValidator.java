package dev.ncalign.policy.serving;

import dev.ncalign.lm.sampling.SamplingOptions;
import dev.ncalign.proto.v1.GenerateRequest;
import dev.ncalign.proto.v1.LogprobsRequest;
import dev.ncalign.proto.v1.SamplingParams;
import dev.ncalign.serving.InvalidRequestException;
import java.security.SecureRandom;
import java.util.List;

/**
 * Checks the parts of a request that need no tokenizer (counts, K, characters per text) before the
 * {@link Policy} sees it, and turns proto defaults (0 = unset) into concrete values. Every failure
 * is an {@link InvalidRequestException} naming the proto field.
 */
final class RequestValidator {

  static final int MAX_STOP_STRINGS = 8;
  static final int MAX_STOP_LENGTH = 64;
  private static final SecureRandom SEEDS = new SecureRandom();

  private final PolicyLimits limits;

  RequestValidator(PolicyLimits limits) {
    this.limits = limits;
  }

  /** Checks prompt count, K and the length of every prompt. */
  void check(GenerateRequest request) {
    if (request.getPromptsCount() == 0) {
      throw new InvalidRequestException("prompts", "must not be empty");
    }
    if (request.getPromptsCount() > limits.maxPrompts()) {
      throw new InvalidRequestException(
          "prompts",
          request.getPromptsCount() + " prompts exceed the limit of " + limits.maxPrompts());
    }
    long k = Integer.toUnsignedLong(request.getNumSamples());
    if (k < 1 || k > limits.maxNumSamples()) {
      throw new InvalidRequestException(
          "num_samples", "must be in [1, " + limits.maxNumSamples() + "], got " + k);
    }
    for (int i = 0; i < request.getPromptsCount(); i++) {
      limits.text().check("prompts[" + i + "]", request.getPrompts(i));
    }
  }

  /** Checks the item count and the length of every prompt and response. */
  void check(LogprobsRequest request) {
    if (request.getItemsCount() == 0 || request.getItemsCount() > limits.maxLogprobItems()) {
      throw new InvalidRequestException(
          "items",
          "must have 1 to "
              + limits.maxLogprobItems()
              + " entries, got "
              + request.getItemsCount());
    }
    for (int i = 0; i < request.getItemsCount(); i++) {
      limits.text().check("items[" + i + "].prompt", request.getItems(i).getPrompt());
      limits.text().check("items[" + i + "].response", request.getItems(i).getResponse());
    }
  }

  /**
   * Sampling options with {@code maxNewTokens} already resolved by the caller against the prompts.
   * A seed of 0 becomes a fresh random seed; top_p 0 (unset) becomes 1.
   */
  static SamplingOptions samplingOptions(SamplingParams params, int maxNewTokens) {
    float temperature = params.getTemperature();
    if (!(temperature >= 0) || Float.isInfinite(temperature)) {
      throw new InvalidRequestException(
          "sampling.temperature", "must be a finite number ≥ 0, got " + temperature);
    }
    float topP = params.getTopP() == 0f ? 1f : params.getTopP();
    if (!(topP > 0 && topP <= 1)) {
      throw new InvalidRequestException(
          "sampling.top_p", "must be in (0, 1], got " + params.getTopP());
    }
    long topK = Integer.toUnsignedLong(params.getTopK());
    List<String> stop = params.getStopList();
    if (stop.size() > MAX_STOP_STRINGS) {
      throw new InvalidRequestException(
          "sampling.stop", "at most " + MAX_STOP_STRINGS + " strings");
    }
    for (int i = 0; i < stop.size(); i++) {
      if (stop.get(i).isEmpty() || stop.get(i).length() > MAX_STOP_LENGTH) {
        throw new InvalidRequestException(
            "sampling.stop[" + i + "]", "must have 1 to " + MAX_STOP_LENGTH + " characters");
      }
    }
    long seed = params.getSeed() == 0 ? SEEDS.nextLong() : params.getSeed();
    return new SamplingOptions(
        maxNewTokens, temperature, topP, (int) Math.min(topK, Integer.MAX_VALUE), seed, stop);
  }

  /**
   * max_new_tokens for prompts whose longest has {@code longestPrompt} tokens: the request's value
   * if it fits the context, else an error; 0 means the server default cut to what the context
   * leaves.
   */
  static int maxNewTokens(
      SamplingParams params, int longestPrompt, int context, int defaultMaxNewTokens) {
    long requested = Integer.toUnsignedLong(params.getMaxNewTokens());
    if (requested == 0) {
      return Math.min(defaultMaxNewTokens, context - longestPrompt);
    }
    if (requested + longestPrompt > context) {
      throw new InvalidRequestException(
          "sampling.max_new_tokens",
          requested
              + " new tokens after a prompt of "
              + longestPrompt
              + " tokens exceed max_context "
              + context);
    }
    return (int) requested;
  }
}

package dev.ncalign.orchestrator.train;

import dev.ncalign.lm.model.TextCodec;
import java.util.Arrays;

/**
 * One response to a prompt with its explicit reward.
 *
 * @param text the response text
 * @param tokenIds the response's token ids, trained on exactly as given: the sampler's ids (eos
 *     only when the sampler produced it; none on a truncated response), or for a text-only dataset
 *     row the text's ids plus eos (see {@link #ending})
 * @param reward the reward model's score; a non-finite value marks the response absent for training
 * @param sample how the policy produced it; null when the response came as text only
 */
public record ScoredResponse(String text, int[] tokenIds, float reward, Sample sample) {

  /** A response with no record of its sampling. */
  public ScoredResponse(String text, int[] tokenIds, float reward) {
    this(text, tokenIds, reward, null);
  }

  public ScoredResponse {
    if (sample != null && sample.tokenLogprobs().length != tokenIds.length) {
      throw new IllegalArgumentException(
          "response '"
              + text
              + "' has "
              + tokenIds.length
              + " token ids but "
              + sample.tokenLogprobs().length
              + " token log-probs");
    }
  }

  /**
   * A response given as text only: tokenized without special tokens, then the eos token appended
   * (the TRL convention), so training on it also teaches where the response stops. Text cannot say
   * whether a response was cut off, so prefer {@link Sample}d ids whenever they exist.
   */
  public static ScoredResponse ending(TextCodec codec, String text, float reward) {
    int[] ids = codec.encodeResponse(text);
    int[] withEos = Arrays.copyOf(ids, ids.length + 1);
    withEos[ids.length] = codec.eosId();
    return new ScoredResponse(text, withEos, reward);
  }

  /** Whether the reward can be trained on. */
  public boolean present() {
    return Float.isFinite(reward);
  }

  /** The version the response was sampled from, or null when unknown. */
  public Long sampledVersion() {
    return sample == null ? null : sample.version();
  }
}

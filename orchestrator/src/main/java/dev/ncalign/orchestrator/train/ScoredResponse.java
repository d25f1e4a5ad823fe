package dev.ncalign.orchestrator.train;

import dev.ncalign.lm.model.TextCodec;
import java.util.Arrays;

/**
 * One response to a prompt with its explicit reward.
 *
 * @param text the response text
 * @param tokenIds the response's token ids under the policy's tokenizer (as sampled, eos included
 *     when sampled)
 * @param reward the reward model's score; a non-finite value marks the response absent for training
 */
public record ScoredResponse(String text, int[] tokenIds, float reward) {

  /**
   * A response given as text: tokenized without special tokens, then the eos token appended (the
   * TRL convention), so training on it also teaches where the response stops.
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
}

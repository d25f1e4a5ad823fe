package dev.ncalign.reward.model;

/**
 * One tokenized (prompt, response) pair, unpadded.
 *
 * @param inputIds token ids including the tokenizer's special tokens
 * @param tokenTypeIds segment ids, same length as {@code inputIds}
 * @param truncated whether tokens were dropped to fit the model's max length
 */
public record EncodedInput(long[] inputIds, long[] tokenTypeIds, boolean truncated) {

  /** Number of real tokens. */
  public int length() {
    return inputIds.length;
  }
}

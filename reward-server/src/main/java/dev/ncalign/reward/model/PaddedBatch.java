package dev.ncalign.reward.model;

import java.util.Arrays;
import java.util.List;

/**
 * Encoded inputs right-padded to the longest one, as flat row-major [batch, length] arrays ready
 * for a tensor.
 *
 * @param inputIds padded token ids
 * @param attentionMask 1 for real tokens, 0 for padding
 * @param tokenTypeIds padded segment ids
 * @param batch number of rows
 * @param length columns (the longest input)
 */
public record PaddedBatch(
    long[] inputIds, long[] attentionMask, long[] tokenTypeIds, int batch, int length) {

  /** Pads {@code inputs} with {@code padId}. */
  public static PaddedBatch of(List<EncodedInput> inputs, long padId) {
    int length = inputs.stream().mapToInt(EncodedInput::length).max().orElse(0);
    int batch = inputs.size();
    long[] ids = new long[batch * length];
    long[] mask = new long[batch * length];
    long[] types = new long[batch * length];
    Arrays.fill(ids, padId);
    for (int row = 0; row < batch; row++) {
      EncodedInput input = inputs.get(row);
      int offset = row * length;
      System.arraycopy(input.inputIds(), 0, ids, offset, input.length());
      System.arraycopy(input.tokenTypeIds(), 0, types, offset, input.length());
      Arrays.fill(mask, offset, offset + input.length(), 1L);
    }
    return new PaddedBatch(ids, mask, types, batch, length);
  }

  /** The tensor shape {batch, length}. */
  public long[] shape() {
    return new long[] {batch, length};
  }
}

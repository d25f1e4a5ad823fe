package dev.ncalign.reward.serving;

import dev.ncalign.serving.TextLimit;
import java.util.Objects;

/**
 * How much a reward server takes on: per model run, per call, per text.
 *
 * @param maxBatchSize most items in one model run
 * @param maxWaitMs longest an item waits for its batch to fill
 * @param maxItems most items in one Score call
 * @param text most characters in one prompt or response, checked before tokenizing
 */
public record RewardLimits(int maxBatchSize, int maxWaitMs, int maxItems, TextLimit text) {

  /** Default {@link #maxBatchSize()}. */
  public static final int DEFAULT_MAX_BATCH_SIZE = 32;

  /**
   * Default {@link #maxWaitMs()}: no waiting for company. What queues while the model runs still
   * forms the next batch; a fixed window only delays lone items (measured with {@code ncalign bench
   * reward}: a 5 ms window made one caller's single-item calls 9× slower and gained nothing at 64).
   */
  public static final int DEFAULT_MAX_WAIT_MS = 0;

  /** Default {@link #maxItems()}. */
  public static final int DEFAULT_MAX_ITEMS = 1024;

  /** Checks the values; each message names the flag. */
  public RewardLimits {
    Objects.requireNonNull(text, "text");
    positive("--max-batch-size", maxBatchSize);
    positive("--max-items", maxItems);
    if (maxWaitMs < 0) {
      throw new IllegalArgumentException("--max-wait-ms must be >= 0, got " + maxWaitMs);
    }
  }

  /** 32 items a run, 5 ms of waiting, 1024 items a call, 32768 characters a text. */
  public static RewardLimits defaults() {
    return new RewardLimits(
        DEFAULT_MAX_BATCH_SIZE,
        DEFAULT_MAX_WAIT_MS,
        DEFAULT_MAX_ITEMS,
        new TextLimit(TextLimit.DEFAULT_MAX_CHARS));
  }

  private static void positive(String flag, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(flag + " must be at least 1, got " + value);
    }
  }
}

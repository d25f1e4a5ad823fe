package dev.ncalign.lm.model;

/**
 * Shape of a tiny random model for tests and demos.
 *
 * @param hidden hidden size
 * @param layers decoder layers
 * @param heads query heads
 * @param kvHeads key/value heads (fewer than heads = grouped-query attention)
 * @param intermediate MLP inner width
 * @param maxPositions context window
 * @param qwen2 write a {@code Qwen2ForCausalLM} (q/k/v biases) instead of a {@code
 *     LlamaForCausalLM}
 * @param tieWordEmbeddings lm_head shares the embedding matrix
 */
public record TinyModelSpec(
    int hidden,
    int layers,
    int heads,
    int kvHeads,
    int intermediate,
    int maxPositions,
    boolean qwen2,
    boolean tieWordEmbeddings) {

  /** A Llama with separate lm_head. */
  public TinyModelSpec(
      int hidden, int layers, int heads, int kvHeads, int intermediate, int maxPositions) {
    this(hidden, layers, heads, kvHeads, intermediate, maxPositions, false, false);
  }

  /**
   * 2 layers, width 32, 4 query heads sharing 2 kv heads, context 64: fast enough for unit tests.
   */
  public static TinyModelSpec tiny() {
    return new TinyModelSpec(32, 2, 4, 2, 64, 64);
  }

  public TinyModelSpec withQwen2(boolean value) {
    return new TinyModelSpec(
        hidden, layers, heads, kvHeads, intermediate, maxPositions, value, tieWordEmbeddings);
  }

  public TinyModelSpec withTiedEmbeddings(boolean value) {
    return new TinyModelSpec(
        hidden, layers, heads, kvHeads, intermediate, maxPositions, qwen2, value);
  }
}

package dev.ncalign.lm.sampling;

/** Why a sampled sequence ended. */
public enum FinishReason {
  /** The end-of-sequence token or a stop string. */
  STOP,
  /** max_new_tokens or the context window was reached. */
  LENGTH,
  /** The caller cancelled (client cancellation or deadline). */
  CANCELLED
}

package dev.ncalign.orchestrator.loss;

/**
 * The alignment objectives of "Noise Contrastive Alignment of Language Models with Explicit
 * Rewards" (arXiv 2402.05369) and the pairwise baselines they generalise.
 */
public enum LossType {
  /**
   * NCA: classifies each response as data or noise on its own, so it moves absolute likelihoods.
   */
  NCA,
  /**
   * InfoNCA: picks the data response among the K, so it only moves likelihoods relative to each
   * other.
   */
  INFONCA,
  /** DPO on the best and worst response of each prompt (InfoNCA with K = 2, alpha → 0). */
  DPO,
  /** NCA restricted to the best and worst response of each prompt. */
  NCA_PAIR
}

package dev.ncalign.orchestrator.loss;

/**
 * The pair the pairwise losses (DPO, NCA-pair) train on for one prompt: the present response with
 * the highest reward (ties: lowest index) and the one with the lowest reward (ties: highest index).
 * The one tie rule: the likelihood diagnostic reads the same choice, so the "best" and "worst" it
 * reports are exactly the responses the loss pushed apart.
 *
 * @param chosen index of the best response, −1 when no response is present
 * @param rejected index of the worst response, −1 when no response is present
 */
public record PairChoice(int chosen, int rejected) {

  /** The choice among {@code k} responses starting at {@code offset} of the flat arrays. */
  public static PairChoice of(float[] rewards, boolean[] present, int offset, int k) {
    int best = -1;
    int worst = -1;
    for (int i = 0; i < k; i++) {
      if (!present[offset + i]) {
        continue;
      }
      float reward = rewards[offset + i];
      if (best < 0 || reward > rewards[offset + best]) {
        best = i;
      }
      if (worst < 0 || reward <= rewards[offset + worst]) {
        worst = i;
      }
    }
    return new PairChoice(best, worst);
  }
}

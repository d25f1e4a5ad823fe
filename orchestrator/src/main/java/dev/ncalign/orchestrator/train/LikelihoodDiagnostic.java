package dev.ncalign.orchestrator.train;

import java.util.List;

/**
 * The paper's likelihood diagnostic: how the log-probs of each prompt's best and worst response
 * moved during a round (the best and worst as {@link ScoredPrompt#pairChoice} picks them, the same
 * pair the pairwise losses use), and the KL estimate to the reference.
 */
final class LikelihoodDiagnostic {
  private LikelihoodDiagnostic() {}

  static RoundUpdate summarize(
      List<ScoredPrompt> prompts,
      double[][] before,
      double[][] after,
      double meanLoss,
      int steps,
      double meanGradNorm) {
    double bestBefore = 0;
    double bestAfter = 0;
    double worstBefore = 0;
    double worstAfter = 0;
    int rated = 0;
    for (int p = 0; p < prompts.size(); p++) {
      ScoredPrompt prompt = prompts.get(p);
      int best = prompt.best();
      if (best < 0) {
        continue;
      }
      int worst = prompt.worst();
      bestBefore += before[p][best];
      bestAfter += after[p][best];
      worstBefore += before[p][worst];
      worstAfter += after[p][worst];
      rated++;
    }
    int d = Math.max(1, rated);
    return new RoundUpdate(
        meanLoss,
        bestBefore / d,
        bestAfter / d,
        worstBefore / d,
        worstAfter / d,
        steps,
        meanGradNorm);
  }

  /**
   * Mean of log π − log π_ref over the present responses (NaN when there is none): the KL(π‖π_ref)
   * estimate when the responses were sampled from π.
   */
  static double meanLogRatio(List<ScoredPrompt> prompts, double[][] logp, double[][] ref) {
    double sum = 0;
    int n = 0;
    for (int p = 0; p < prompts.size(); p++) {
      for (int k = 0; k < logp[p].length; k++) {
        if (prompts.get(p).responses().get(k).present()) {
          sum += logp[p][k] - ref[p][k];
          n++;
        }
      }
    }
    return n == 0 ? Double.NaN : sum / n;
  }
}

package dev.ncalign.orchestrator.web;

import dev.ncalign.orchestrator.config.Mode;
import dev.ncalign.orchestrator.store.RoundMetrics;
import dev.ncalign.orchestrator.train.RewardBatch;
import dev.ncalign.orchestrator.train.Sample;
import dev.ncalign.orchestrator.train.ScoredPrompt;
import dev.ncalign.orchestrator.train.ScoredResponse;
import dev.ncalign.proto.v1.FinishReason;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Made-up rounds to feed a dashboard: reward rises, the best response's log-prob rises, the worst
 * falls.
 */
final class Rounds {

  /** Prompts per round and responses per prompt. */
  static final int PROMPTS = 2;

  static final int K = 3;

  private Rounds() {}

  /** Round {@code r} sampled from version {@code r - 1}; eval reward every other round. */
  static RoundMetrics metrics(int r) {
    return RoundMetrics.builder()
        .round(r)
        .mode(Mode.ONLINE)
        .sampledVersion(r - 1L)
        .liveVersion(r)
        .step(4L * r)
        .meanReward(0.1 * r)
        .minReward(-1 + 0.1 * r)
        .maxReward(1 + 0.1 * r)
        .loss(2.0 / r)
        .bestLogpBefore(-20 + r)
        .bestLogpAfter(-19 + r)
        .worstLogpBefore(-25 - r)
        .worstLogpAfter(-26 - r)
        .kl(0.01 * r)
        .meanLength(12 + r)
        .distinct2(0.8)
        .dropped(0)
        .generateSeconds(0.5)
        .scoreSeconds(0.2)
        .referenceSeconds(0.04)
        .learnSeconds(0.3 + 0.01 * r)
        .pushSeconds(0.05)
        .pushBytes(1_572_864L)
        .staleness((long) r % 2)
        .learnerWaitSeconds(0.1)
        .tokensPerSecond(150)
        .evalReward(r % 2 == 0 ? 0.1 * r + 0.05 : null)
        .build();
  }

  /** PROMPTS × K responses with rewards {@code r + prompt + k / 10}. */
  static RewardBatch batch(int r) {
    return new RewardBatch(
        IntStream.range(0, PROMPTS)
            .mapToObj(
                p ->
                    new ScoredPrompt(
                        "prompt " + p,
                        new int[] {1, 2},
                        IntStream.range(0, K)
                            .mapToObj(k -> response(r, p, k, r + p + k / 10f))
                            .toList()))
            .toList());
  }

  static ScoredResponse response(int r, int p, int k, float reward) {
    return new ScoredResponse(
        "round " + r + " prompt " + p + " sample " + k,
        new int[] {3, 4, 5},
        reward,
        new Sample(r - 1L, FinishReason.STOP, new float[] {-1f, -2f, -0.5f}));
  }

  /** A batch whose last response has a NaN reward (counted as dropped). */
  static RewardBatch batchWithNaN(int r) {
    RewardBatch batch = batch(r);
    ScoredPrompt last = batch.prompts().get(PROMPTS - 1);
    List<ScoredResponse> responses = new ArrayList<>(last.responses());
    responses.set(K - 1, response(r, PROMPTS - 1, K - 1, Float.NaN));
    return new RewardBatch(
        List.of(
            batch.prompts().get(0), new ScoredPrompt(last.prompt(), last.promptIds(), responses)));
  }

  static void feed(Dashboard dashboard, int from, int to) {
    for (int r = from; r <= to; r++) {
      dashboard.roundCompleted(metrics(r), batch(r));
    }
  }
}

package dev.ncalign.orchestrator.store;

import com.fasterxml.jackson.annotation.JsonAlias;
import dev.ncalign.orchestrator.train.RewardBatch;
import dev.ncalign.orchestrator.train.ScoredPrompt;
import dev.ncalign.orchestrator.train.ScoredResponse;
import java.util.ArrayList;
import java.util.List;

/**
 * One row of {@code samples.jsonl}: a response the round trained on and what the reward model made
 * of it.
 *
 * @param sampledVersion the policy version that sampled the response; null when it came as text
 *     only (older rows: {@code policy_version})
 * @param reward may be NaN or infinite (kept as the reward server returned it; such rows were
 *     dropped from the loss)
 */
public record SampleRecord(
    int round,
    @JsonAlias("policy_version") Long sampledVersion,
    String prompt,
    String response,
    double reward) {

  /** Every response of a round's batch, in batch order. */
  public static List<SampleRecord> of(int round, RewardBatch batch) {
    List<SampleRecord> rows = new ArrayList<>();
    for (ScoredPrompt p : batch.prompts()) {
      for (ScoredResponse r : p.responses()) {
        rows.add(new SampleRecord(round, r.sampledVersion(), p.prompt(), r.text(), r.reward()));
      }
    }
    return rows;
  }
}

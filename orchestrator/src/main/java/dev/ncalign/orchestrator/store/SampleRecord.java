package dev.ncalign.orchestrator.store;

/**
 * One row of {@code samples.jsonl}: a response the policy produced and what the reward model made of it.
 *
 * @param reward may be NaN or infinite (kept as the reward server returned it; such rows were dropped
 *     from the loss)
 */
public record SampleRecord(int round, long policyVersion, String prompt, String response, double reward) {}

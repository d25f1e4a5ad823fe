package dev.ncalign.orchestrator.store;

/**
 * {@code state.json}: the last round whose metrics, samples and checkpoint are all on disk. A
 * resumed run starts at {@code lastCompletedRound + 1} from the model in {@code checkpoint}.
 *
 * @param checkpoint the checkpoint directory, relative to the run directory (so a run directory can
 *     move)
 * @param step optimizer steps taken so far (the learning-rate schedule continues from here)
 * @param rngState the loop's random state, opaque to the store
 */
public record RunState(
    int lastCompletedRound, long policyVersion, long step, String checkpoint, String rngState) {}

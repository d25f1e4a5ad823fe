package dev.ncalign.orchestrator.store;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * {@code state.json}: the last round whose metrics, samples and checkpoint are all on disk. A
 * resumed run starts at {@code lastCompletedRound + 1} from the model in {@code checkpoint}. (Files
 * written before this version also carry an always-empty {@code rng_state}: every random choice
 * derives from the seed and the round number, so there is no state to keep.)
 *
 * @param liveVersion the version the replicas served after that round's push
 * @param checkpoint the checkpoint directory, relative to the run directory (so a run directory can
 *     move)
 * @param step optimizer steps taken so far (the learning-rate schedule continues from here)
 */
@JsonIgnoreProperties({"rng_state"})
public record RunState(
    int lastCompletedRound,
    @JsonAlias("policy_version") long liveVersion,
    long step,
    String checkpoint) {}

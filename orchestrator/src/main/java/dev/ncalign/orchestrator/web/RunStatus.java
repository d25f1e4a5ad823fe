package dev.ncalign.orchestrator.web;

import java.util.List;

/**
 * The body of {@code GET /api/status}.
 *
 * @param liveVersion see {@link LiveVersion#of}; null before the first round when no replica
 *     reports one
 */
record RunStatus(
    String runName, Long liveVersion, int roundsDone, List<ReplicaStatus.Replica> replicas) {}

package dev.ncalign.orchestrator.client;

import java.time.Instant;

/**
 * One replica as its client sees it now, for dashboards and metrics; no call is made to take it.
 *
 * @param target the replica's own address ({@code host:port}), for a {@code dns:///} target one of
 *     the addresses the name resolved to
 * @param state whether calls go to it
 * @param liveVersion the policy version it was last seen serving; null for reward replicas or when
 *     unknown
 * @param detail why it is down or refused, or what brought it back; empty when there is nothing to
 *     say
 * @param since when it entered {@code state}
 * @param outages how many times it went down since the client started
 */
public record ReplicaView(
    String target,
    ReplicaState state,
    Long liveVersion,
    String detail,
    Instant since,
    int outages) {}

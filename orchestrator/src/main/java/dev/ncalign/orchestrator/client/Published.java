package dev.ncalign.orchestrator.client;

/**
 * A weight file every policy replica now serves.
 *
 * @param version the version the replicas serve
 * @param bytes bytes of the file sent to each replica
 * @param seconds wall time of the push, digest included
 * @param loadSeconds the slowest replica's verify-load-swap time
 */
public record Published(long version, long bytes, double seconds, double loadSeconds) {}

package dev.ncalign.orchestrator.web;

import dev.ncalign.orchestrator.store.RoundMetrics;
import dev.ncalign.orchestrator.store.SampleRecord;
import java.util.List;

/**
 * The payload of one {@code round} server-sent event.
 *
 * @param samples the round's samples, newest first, at most {@link DashboardRoutes#PAGE_SAMPLES}
 */
record RoundEvent(
    RoundMetrics metrics, int roundsDone, long liveVersion, List<SampleRecord> samples) {}

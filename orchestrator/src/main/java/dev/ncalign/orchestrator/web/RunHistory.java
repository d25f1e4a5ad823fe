package dev.ncalign.orchestrator.web;

import dev.ncalign.orchestrator.store.RoundMetrics;
import dev.ncalign.orchestrator.store.SampleRecord;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * What the dashboard serves: every metrics row, and the most recent samples. Kept in memory rather
 * than re-read from the run store on each request because samples.jsonl grows by P·K rows per
 * round; the sample window is bounded so a long run does not grow the heap. Thread-safe: the loop
 * writes, the event loop reads.
 */
final class RunHistory {

  /** Samples kept for the dashboard; the page shows fewer. */
  static final int SAMPLE_WINDOW = 500;

  private final List<RoundMetrics> rows = new ArrayList<>();
  private final Deque<SampleRecord> samples = new ArrayDeque<>();

  synchronized void add(RoundMetrics row, List<SampleRecord> roundSamples) {
    rows.add(row);
    roundSamples.forEach(this::addSample);
  }

  /** Adds samples of earlier rounds (a resumed run), without metrics. */
  synchronized void addSamples(List<SampleRecord> earlier) {
    earlier.forEach(this::addSample);
  }

  private void addSample(SampleRecord sample) {
    samples.addLast(sample);
    if (samples.size() > SAMPLE_WINDOW) {
      samples.removeFirst();
    }
  }

  synchronized List<RoundMetrics> metrics() {
    return List.copyOf(rows);
  }

  synchronized int roundsDone() {
    return rows.size();
  }

  /** The last metrics row, or null before the first round. */
  synchronized RoundMetrics last() {
    return rows.isEmpty() ? null : rows.get(rows.size() - 1);
  }

  /** Up to {@code limit} samples, newest first. */
  synchronized List<SampleRecord> recentSamples(int limit) {
    List<SampleRecord> recent = new ArrayList<>(Math.min(limit, samples.size()));
    var it = samples.descendingIterator();
    while (it.hasNext() && recent.size() < limit) {
      recent.add(it.next());
    }
    return recent;
  }
}

package dev.ncalign.orchestrator.client;

import java.util.ArrayList;
import java.util.List;

/** Splits a request's items into contiguous slices, one per parallel call. */
final class Shards {

  private Shards() {}

  /**
   * At least {@code parts} slices when there are that many items (one per replica), more when a
   * slice would exceed {@code maxPerShard} (a server limit, ≤ 0 for none); sizes differ by at most
   * one and concatenating the slices gives {@code items} back.
   */
  static <T> List<List<T>> split(List<T> items, int parts, int maxPerShard) {
    int n = items.size();
    int count = Math.max(1, Math.min(parts, n));
    if (maxPerShard > 0) {
      count = Math.max(count, (n + maxPerShard - 1) / maxPerShard);
    }
    List<List<T>> shards = new ArrayList<>(count);
    int from = 0;
    for (int i = 0; i < count; i++) {
      int size = n / count + (i < n % count ? 1 : 0);
      shards.add(items.subList(from, from + size));
      from += size;
    }
    return shards;
  }
}

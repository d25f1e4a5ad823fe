package dev.ncalign.reward.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class DynamicBatcherTest {

  /** Records every batch it runs; the result of an item is the item negated. */
  private static final class Recorder implements DynamicBatcher.BatchFunction<Integer, Integer> {
    final List<List<Integer>> batches = Collections.synchronizedList(new ArrayList<>());

    @Override
    public List<Integer> apply(List<Integer> batch) {
      batches.add(List.copyOf(batch));
      return batch.stream().map(i -> -i).toList();
    }
  }

  @Test
  void concurrentCallersEachGetTheirOwnResultsInOrder() throws Exception {
    Recorder recorder = new Recorder();
    int callers = 16;
    ExecutorService pool = Executors.newFixedThreadPool(callers);
    try (DynamicBatcher<Integer, Integer> batcher =
        new DynamicBatcher<>(8, Duration.ofMillis(2), i -> i % 7, recorder)) {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<?>> done = new ArrayList<>();
      for (int c = 0; c < callers; c++) {
        int caller = c;
        done.add(
            pool.submit(
                () -> {
                  start.await();
                  Random rng = new Random(caller);
                  for (int call = 0; call < 20; call++) {
                    List<Integer> items = new ArrayList<>();
                    int n = 1 + rng.nextInt(12);
                    for (int k = 0; k < n; k++) {
                      items.add(caller * 100_000 + call * 100 + k);
                    }
                    assertEquals(items.stream().map(i -> -i).toList(), batcher.submit(items).get());
                  }
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    assertTrue(recorder.batches.stream().allMatch(b -> b.size() <= 8));
    assertTrue(recorder.batches.stream().anyMatch(b -> b.size() > 1), "some calls were merged");
  }

  @Test
  void itemsWaitingTogetherAreBucketedByLength() throws Exception {
    Recorder recorder = new Recorder();
    // A long wait so that everything submitted below is waiting when the first batch is cut.
    try (DynamicBatcher<Integer, Integer> batcher =
        new DynamicBatcher<>(4, Duration.ofSeconds(30), i -> i, recorder)) {
      List<Integer> items = List.of(9, 1, 8, 2, 7, 3, 6, 4, 5, 0, 11, 10);
      List<Integer> result = batcher.submit(items).get();
      assertEquals(items.stream().map(i -> -i).toList(), result);
    }
    assertEquals(
        List.of(List.of(0, 1, 2, 3), List.of(4, 5, 6, 7), List.of(8, 9, 10, 11)), recorder.batches);
  }

  @Test
  void aFailingBatchFailsItsCallersOnly() throws Exception {
    try (DynamicBatcher<Integer, Integer> batcher =
        new DynamicBatcher<>(
            2,
            Duration.ZERO,
            i -> 0,
            batch -> {
              if (batch.contains(13)) {
                throw new IllegalStateException("unlucky");
              }
              return batch;
            })) {
      ExecutionException failure =
          assertThrows(ExecutionException.class, () -> batcher.submit(List.of(13)).get());
      assertInstanceOf(IllegalStateException.class, failure.getCause());
      assertEquals(List.of(1, 2, 3), batcher.submit(List.of(1, 2, 3)).get());
    }
  }

  @Test
  void closeFinishesQueuedWorkAndRefusesNewWork() throws Exception {
    DynamicBatcher<Integer, Integer> batcher =
        new DynamicBatcher<>(100, Duration.ofSeconds(30), i -> 0, b -> b);
    CompletableFuture<List<Integer>> queued = batcher.submit(List.of(4, 5));
    batcher.close();
    assertEquals(List.of(4, 5), queued.get());
    assertThrows(ExecutionException.class, () -> batcher.submit(List.of(1)).get());
  }

  @Test
  void queuedItemsCountsItemsNotYetInARun() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    try (DynamicBatcher<Integer, Integer> batcher =
        new DynamicBatcher<>(
            1,
            Duration.ZERO,
            i -> 0,
            batch -> {
              started.countDown();
              release.await();
              return batch;
            })) {
      assertEquals(0, batcher.queuedItems());
      CompletableFuture<List<Integer>> three = batcher.submit(List.of(1, 2, 3));
      started.await();
      // The first batch of one is running, blocked; the other two wait behind it.
      assertEquals(2, batcher.queuedItems());
      release.countDown();
      assertEquals(List.of(1, 2, 3), three.get());
      assertEquals(0, batcher.queuedItems());
    }
  }
}

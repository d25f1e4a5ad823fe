package dev.ncalign.reward.serving;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.ToIntFunction;

/**
 * Merges items submitted by concurrent callers into batches for one model run each. A batch is cut
 * when {@code maxBatchSize} items are waiting or the oldest has waited {@code maxWait}; everything
 * waiting at that moment (up to a few batches) is sorted by length and cut into consecutive
 * batches, so each batch holds similar lengths and little padding. Every caller gets its own
 * results in its own order.
 *
 * @param <T> an item, e.g. an encoded input
 * @param <R> the result for one item
 */
public final class DynamicBatcher<T, R> implements AutoCloseable {

  /** Runs one batch; returns one result per item, in order. */
  @FunctionalInterface
  public interface BatchFunction<T, R> {
    /** Results for {@code batch}, same size and order. */
    List<R> apply(List<T> batch) throws Exception;
  }

  /** How many batches' worth of waiting items are sorted together into length buckets. */
  private static final int BUCKETED_BATCHES = 4;

  private final int maxBatchSize;
  private final long maxWaitNanos;
  private final ToIntFunction<T> length;
  private final BatchFunction<T, R> function;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final ArrayDeque<Slot<T, R>> waiting = new ArrayDeque<>();

  /**
   * Items submitted whose batch has not started: {@link #waiting} plus the rest of the worker's
   * window.
   */
  private final AtomicInteger queued = new AtomicInteger();

  private final Thread worker;
  private boolean closed;

  /**
   * Starts the worker thread.
   *
   * @param length size of an item for bucketing (e.g. token count)
   */
  public DynamicBatcher(
      int maxBatchSize, Duration maxWait, ToIntFunction<T> length, BatchFunction<T, R> function) {
    if (maxBatchSize < 1) {
      throw new IllegalArgumentException("max batch size must be at least 1, got " + maxBatchSize);
    }
    this.maxBatchSize = maxBatchSize;
    this.maxWaitNanos = maxWait.toNanos();
    this.length = length;
    this.function = function;
    this.worker = new Thread(this::runLoop, "dynamic-batcher");
    this.worker.setDaemon(true);
    this.worker.start();
  }

  /**
   * Queues {@code items}; the future completes with one result per item, in order, or the batch's
   * failure.
   */
  public CompletableFuture<List<R>> submit(List<T> items) {
    Request<R> request = new Request<>(items.size());
    if (items.isEmpty()) {
      request.future.complete(List.of());
      return request.future;
    }
    long now = System.nanoTime();
    lock.lock();
    try {
      if (closed) {
        request.future.completeExceptionally(new IllegalStateException("batcher is closed"));
        return request.future;
      }
      for (int i = 0; i < items.size(); i++) {
        waiting.add(new Slot<>(items.get(i), request, i, now));
      }
      queued.addAndGet(items.size());
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    return request.future;
  }

  private void runLoop() {
    while (true) {
      List<Slot<T, R>> window = nextWindow();
      if (window == null) {
        return;
      }
      window.sort(Comparator.comparingInt(slot -> length.applyAsInt(slot.item)));
      for (int start = 0; start < window.size(); start += maxBatchSize) {
        run(window.subList(start, Math.min(window.size(), start + maxBatchSize)));
      }
    }
  }

  /** Blocks until a batch is due; null once closed and drained. */
  private List<Slot<T, R>> nextWindow() {
    lock.lock();
    try {
      while (waiting.isEmpty()) {
        if (closed) {
          return null;
        }
        changed.awaitUninterruptibly();
      }
      long deadline = waiting.peekFirst().enqueuedNanos + maxWaitNanos;
      while (waiting.size() < maxBatchSize && !closed) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          break;
        }
        changed.awaitNanos(left);
      }
      List<Slot<T, R>> window = new ArrayList<>();
      while (!waiting.isEmpty() && window.size() < maxBatchSize * BUCKETED_BATCHES) {
        window.add(waiting.pollFirst());
      }
      return window;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("batcher interrupted", e);
    } finally {
      lock.unlock();
    }
  }

  private void run(List<Slot<T, R>> batch) {
    queued.addAndGet(-batch.size());
    List<R> results;
    try {
      results = function.apply(batch.stream().map(slot -> slot.item).toList());
      if (results.size() != batch.size()) {
        throw new IllegalStateException(results.size() + " results for a batch of " + batch.size());
      }
    } catch (Exception | Error e) {
      Set<Request<R>> failed = new LinkedHashSet<>();
      batch.forEach(slot -> failed.add(slot.request));
      failed.forEach(request -> request.future.completeExceptionally(e));
      return;
    }
    for (int i = 0; i < batch.size(); i++) {
      Slot<T, R> slot = batch.get(i);
      slot.request.deliver(slot.index, results.get(i));
    }
  }

  /** Items submitted and not yet handed to a batch run: the queue in front of the model. */
  public int queuedItems() {
    return queued.get();
  }

  /** Stops taking items, finishes those already queued, and stops the worker. */
  @Override
  public void close() {
    lock.lock();
    try {
      closed = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    try {
      worker.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private record Slot<T, R>(T item, Request<R> request, int index, long enqueuedNanos) {}

  /** One caller's items: results fill in by index, the future completes when the last arrives. */
  private static final class Request<R> {
    private final Object[] results;
    private final AtomicInteger remaining;
    private final CompletableFuture<List<R>> future = new CompletableFuture<>();

    Request(int size) {
      this.results = new Object[size];
      this.remaining = new AtomicInteger(size);
    }

    @SuppressWarnings("unchecked")
    void deliver(int index, R result) {
      results[index] = result;
      if (remaining.decrementAndGet() == 0) {
        future.complete((List<R>) Arrays.asList(results));
      }
    }
  }
}

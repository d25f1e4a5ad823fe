package dev.ncalign.policy.scheduling;

import dev.ncalign.serving.RefusedRequestException;
import io.grpc.Status;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * At most N requests run their model work at once; the others wait first come, first served, parked
 * (no CPU), checking every 100 ms whether their caller gave up. On a CPU, more decode loops than
 * cores add no throughput, only contention: with 200 of them a push got 1/200 of the machine. A
 * finishing request hands its slot straight to the head of the queue, so no newcomer overtakes.
 */
public final class RunQueue {

  /** How often a waiting request re-checks its cancellation. */
  private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final int maxRunning;
  private final ReentrantLock lock = new ReentrantLock();

  /** Guarded by {@link #lock}. */
  private final ArrayDeque<Waiter> queue = new ArrayDeque<>();

  /** Slots held; guarded by {@link #lock}. */
  private int running;

  /**
   * @param maxRunning how many requests run at once, ≥ 1
   */
  public RunQueue(int maxRunning) {
    if (maxRunning < 1) {
      throw new IllegalArgumentException("max running requests must be ≥ 1, got " + maxRunning);
    }
    this.maxRunning = maxRunning;
  }

  /**
   * Waits for a slot; close the returned one when the request's model work is done.
   *
   * @throws RefusedRequestException CANCELLED if {@code cancelled} turns true while waiting (the
   *     request leaves the queue)
   */
  public Slot enter(BooleanSupplier cancelled) {
    lock.lock();
    try {
      if (running < maxRunning && queue.isEmpty()) {
        running++;
        return new Slot();
      }
      Waiter waiter = new Waiter(lock.newCondition());
      queue.add(waiter);
      while (!waiter.admitted) {
        if (cancelled.getAsBoolean()) {
          queue.remove(waiter);
          throw new RefusedRequestException(
              Status.Code.CANCELLED, "cancelled or deadline exceeded while queued");
        }
        try {
          waiter.turn.awaitNanos(POLL_NANOS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          if (!waiter.admitted) {
            queue.remove(waiter);
            throw new RefusedRequestException(Status.Code.CANCELLED, "interrupted while queued");
          }
        }
      }
      return new Slot();
    } finally {
      lock.unlock();
    }
  }

  /** Requests waiting for a slot. */
  public int waiting() {
    lock.lock();
    try {
      return queue.size();
    } finally {
      lock.unlock();
    }
  }

  /** Requests holding a slot. */
  public int running() {
    lock.lock();
    try {
      return running;
    } finally {
      lock.unlock();
    }
  }

  /** The bound N. */
  public int maxRunning() {
    return maxRunning;
  }

  private void release() {
    lock.lock();
    try {
      Waiter next = queue.poll();
      if (next == null) {
        running--;
      } else {
        // The slot passes on without being freed: nobody can take it in between.
        next.admitted = true;
        next.turn.signal();
      }
    } finally {
      lock.unlock();
    }
  }

  /** A queued request; fields guarded by {@link #lock}. */
  private static final class Waiter {
    final Condition turn;
    boolean admitted;

    Waiter(Condition turn) {
      this.turn = turn;
    }
  }

  /** A running request's slot; closing it twice is harmless. */
  public final class Slot implements AutoCloseable {
    private boolean closed;

    private Slot() {}

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        release();
      }
    }
  }
}

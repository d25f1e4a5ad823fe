package dev.ncalign.policy.scheduling;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * Swap priority: while a weight push is receiving or loading, model work pauses between steps, so
 * the push gets the CPU instead of 1/N of it behind N decode loops. A push takes a {@link Hold}
 * when its stream starts and closes it when the new version is live or the push failed; requests
 * call {@link #awaitOpen} between decode steps (they keep their lease, so they resume on their own
 * version).
 *
 * <p>A receiving push holds the gate only while its bytes keep coming: after {@code stall} without
 * a chunk it stops holding until the next one, so a client that opens a push and goes quiet cannot
 * stop generation. Once {@link Hold#loading() loading}, it holds until closed.
 */
public final class SwapPriorityGate {

  /** How often a paused request re-checks its cancellation. */
  private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final long stallNanos;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition released = lock.newCondition();

  /** Open holds; guarded by {@link #lock}. */
  private final List<Hold> holds = new ArrayList<>();

  /** A gate that lets a receiving push go quiet for {@code stallNanos} before it stops holding. */
  public SwapPriorityGate(long stallNanos) {
    if (stallNanos <= 0) {
      throw new IllegalArgumentException("stall must be > 0, got " + stallNanos + " ns");
    }
    this.stallNanos = stallNanos;
  }

  /** A gate whose receiving pushes hold it until 1 s without a chunk. */
  public static SwapPriorityGate withDefaultStall() {
    return new SwapPriorityGate(TimeUnit.SECONDS.toNanos(1));
  }

  /** A push starts: model work pauses from its next step until the hold is closed (or stalls). */
  public Hold hold() {
    Hold hold = new Hold();
    lock.lock();
    try {
      holds.add(hold);
    } finally {
      lock.unlock();
    }
    return hold;
  }

  /** Whether model work may run now. */
  public boolean isOpen() {
    lock.lock();
    try {
      return nanosClosed(System.nanoTime()) == 0;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Returns at once when no push holds the gate; otherwise waits until none does or {@code
   * cancelled} turns true (polled every 100 ms).
   *
   * @return nanoseconds spent waiting, 0 if the gate was open
   */
  public long awaitOpen(BooleanSupplier cancelled) {
    long start = System.nanoTime();
    lock.lock();
    try {
      if (nanosClosed(start) == 0) {
        return 0;
      }
      while (true) {
        long closedFor = nanosClosed(System.nanoTime());
        if (closedFor == 0 || cancelled.getAsBoolean()) {
          return System.nanoTime() - start;
        }
        released.awaitNanos(Math.min(closedFor, POLL_NANOS));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return System.nanoTime() - start;
    } finally {
      lock.unlock();
    }
  }

  /**
   * 0 when open; else how long the gate stays closed if nothing changes (a stalling hold's time
   * left; {@link Long#MAX_VALUE} for a loading one). Caller holds the lock.
   */
  private long nanosClosed(long now) {
    long closed = 0;
    for (Hold hold : holds) {
      long left = hold.loading ? Long.MAX_VALUE : hold.lastChunk + stallNanos - now;
      closed = Math.max(closed, Math.max(0, left));
    }
    return closed;
  }

  /** One push's claim on the CPU. Closing it twice is harmless. */
  public final class Hold implements AutoCloseable {
    private volatile long lastChunk = System.nanoTime();
    private volatile boolean loading;

    private Hold() {}

    /** Bytes arrived: the push is alive, keep holding. */
    public void received() {
      lastChunk = System.nanoTime();
    }

    /** The stream is complete and the weights load: hold until closed, however long it takes. */
    public void loading() {
      loading = true;
    }

    /** The push is done (live, refused or broken): model work resumes. */
    @Override
    public void close() {
      lock.lock();
      try {
        if (holds.remove(this)) {
          released.signalAll();
        }
      } finally {
        lock.unlock();
      }
    }
  }
}

package dev.ncalign.lm.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * A busy machine for reproducibility tests, until closed: threads that keep a core busy, and one
 * that forces a garbage collection every few milliseconds. Both are how nondeterminism shows up in
 * practice: a scheduler that interleaves threads differently, and a collector that frees a Java
 * buffer libtorch still reads.
 */
public final class MachineLoad implements AutoCloseable {
  private final AtomicBoolean stop = new AtomicBoolean();
  private final List<Thread> threads = new ArrayList<>();

  private MachineLoad(int burners) {
    for (int i = 0; i < burners; i++) {
      threads.add(new Thread(this::burn, "cpu-burner-" + i));
    }
    threads.add(new Thread(this::collect, "gc-pressure"));
    for (Thread thread : threads) {
      thread.setDaemon(true);
      thread.start();
    }
  }

  /** Starts {@code burners} CPU-burning threads and the collecting one. */
  public static MachineLoad start(int burners) {
    return new MachineLoad(burners);
  }

  private void burn() {
    double x = 1;
    while (!stop.get()) {
      for (int i = 0; i < 100_000; i++) {
        x = Math.sqrt(x + i);
      }
    }
    // Keeps the loop from being optimised away.
    if (x < 0) {
      throw new AssertionError(x);
    }
  }

  private void collect() {
    while (!stop.get()) {
      System.gc();
      LockSupport.parkNanos(5_000_000);
    }
  }

  /** Stops every thread and waits for it. */
  @Override
  public void close() throws InterruptedException {
    stop.set(true);
    for (Thread thread : threads) {
      thread.join();
    }
  }
}

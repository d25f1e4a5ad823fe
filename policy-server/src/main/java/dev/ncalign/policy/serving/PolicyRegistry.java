package dev.ncalign.policy.serving;

import dev.ncalign.lm.model.CausalLm;
import java.io.InputStream;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live weight version and hot-swap. Requests {@link #acquire()} a lease on whatever is live; a
 * push loads the new weights into a standby model (same architecture and tokenizer, its own native
 * memory), checks every weight is finite, then swaps it in atomically. The replaced model is
 * closed, freeing its NDManager, when its last lease is released; a push that fails leaves the live
 * version untouched.
 */
public final class PolicyRegistry implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(PolicyRegistry.class);

  private final AtomicReference<Slot> live;

  /** Serialises pushes: one standby at a time, versions compared and swapped without a race. */
  private final Object pushLock = new Object();

  /** Serves {@code initial} as version 1. */
  public PolicyRegistry(CausalLm initial) {
    live = new AtomicReference<>(new Slot(initial, 1));
  }

  /** A lease on the live version; close it when the request is done. */
  public PolicyLease acquire() {
    while (true) {
      Slot slot = live.get();
      if (slot.tryRetain()) {
        return new PolicyLease(slot);
      }
      // The slot was retired and freed between get() and retain: a newer one is live now.
    }
  }

  public long liveVersion() {
    return live.get().version;
  }

  /**
   * Loads safetensors weights as {@code version} and makes them live.
   *
   * @throws StaleVersionException if {@code version} is not above the live version
   * @throws IllegalArgumentException if the weights do not fit the model (names, shapes,
   *     truncation) or are not all finite; the message names the tensor
   */
  public void push(long version, InputStream safetensors) {
    synchronized (pushLock) {
      Slot current = live.get();
      if (version <= current.version) {
        throw new StaleVersionException(version, current.version);
      }
      CausalLm standby = current.model.newStandby();
      try {
        standby.loadSafetensors(safetensors);
        FiniteWeights.require(standby);
      } catch (RuntimeException e) {
        standby.close();
        throw e;
      }
      live.set(new Slot(standby, version));
      current.release();
      LOG.info("policy version {} is live (replaced {})", version, current.version);
    }
  }

  /** Retires the live version; it is freed once running requests finish. */
  @Override
  public void close() {
    live.get().release();
  }

  /**
   * A model plus its version; the count starts at 1 for the registry's own reference while live.
   */
  static final class Slot {
    final CausalLm model;
    final long version;
    private final AtomicInteger references = new AtomicInteger(1);

    Slot(CausalLm model, long version) {
      this.model = model;
      this.version = version;
    }

    boolean tryRetain() {
      int current;
      do {
        current = references.get();
        if (current == 0) {
          return false;
        }
      } while (!references.compareAndSet(current, current + 1));
      return true;
    }

    void release() {
      if (references.decrementAndGet() == 0) {
        model.close();
      }
    }
  }
}

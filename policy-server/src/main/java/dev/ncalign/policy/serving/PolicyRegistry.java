package dev.ncalign.policy.serving;

import dev.ncalign.lm.lora.LoraAdapter;
import dev.ncalign.lm.lora.LoraConfig;
import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.lm.model.FiniteWeights;
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
 *
 * <p>A LoRA adapter push applies onto the <em>base</em> weights (the initial model), never onto an
 * earlier version: the new version is a view of the base with the adapter added in the forward, so
 * the swap costs only the adapter's memory. The registry keeps the base alive for that until the
 * first full push replaces it (after which adapter pushes are refused).
 */
public final class PolicyRegistry implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(PolicyRegistry.class);

  private final AtomicReference<Slot> live;

  /** Serialises pushes: one standby at a time, versions compared and swapped without a race. */
  private final Object pushLock = new Object();

  /** The initial model, held for adapter pushes until a full push replaces it; else null. */
  private Slot base;

  /** The version of the full push that released {@link #base}. */
  private long baseReplacedBy;

  /** Serves {@code initial} as version 1. */
  public PolicyRegistry(CausalLm initial) {
    Slot initialSlot = new Slot(initial, 1, null);
    initialSlot.tryRetain();
    base = initialSlot;
    live = new AtomicReference<>(initialSlot);
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
      swapIn(new Slot(standby, version, null), current);
      if (base != null) {
        // Full weights replace the base for good: free it once nothing serves it.
        base.release();
        base = null;
        baseReplacedBy = version;
      }
    }
  }

  /**
   * Reads LoRA adapter tensors (PEFT names) checked against the base model and {@code config}, and
   * makes base + adapter live as {@code version}.
   *
   * @throws StaleVersionException if {@code version} is not above the live version
   * @throws BaseReplacedException if a full push has replaced the base weights
   * @throws IllegalArgumentException if the adapter does not fit the base (names, shapes, rank,
   *     targets)
   */
  public void pushAdapter(long version, LoraConfig config, InputStream safetensors) {
    synchronized (pushLock) {
      Slot current = live.get();
      if (version <= current.version) {
        throw new StaleVersionException(version, current.version);
      }
      if (base == null) {
        throw new BaseReplacedException(baseReplacedBy);
      }
      CausalLm view = base.model.withAdapter(LoraAdapter.read(base.model, config, safetensors));
      try {
        FiniteWeights.require(view);
      } catch (RuntimeException e) {
        view.close();
        throw e;
      }
      base.tryRetain();
      swapIn(new Slot(view, version, base), current);
    }
  }

  private void swapIn(Slot next, Slot current) {
    live.set(next);
    current.release();
    LOG.info("policy version {} is live (replaced {})", next.version, current.version);
  }

  /** Retires the live version; it is freed once running requests finish. */
  @Override
  public void close() {
    synchronized (pushLock) {
      live.get().release();
      if (base != null) {
        base.release();
        base = null;
      }
    }
  }

  /**
   * A model plus its version; the count starts at 1 for the registry's own reference while live. An
   * adapter view's slot holds a reference on its base's slot, so the base weights outlive every
   * request on the view.
   */
  static final class Slot {
    final CausalLm model;
    final long version;
    private final Slot base;
    private final AtomicInteger references = new AtomicInteger(1);

    Slot(CausalLm model, long version, Slot base) {
      this.model = model;
      this.version = version;
      this.base = base;
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
        if (base != null) {
          base.release();
        }
      }
    }
  }
}

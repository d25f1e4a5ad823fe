package dev.ncalign.lm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * Past keys and values of every layer after rotary embedding (HF {@code StaticCache}): one
 * preallocated [batch, kvHeads, capacity, headDim] buffer per layer, filled in place, so a decode
 * step allocates nothing that outlives it and memory stays flat however many tokens are generated.
 * The buffers belong to {@code owner}; what {@link #update} hands out are views owned by the step's
 * NDManager, so per-step scratch managers can be closed while the cache lives on.
 */
public final class KvCache {

  private final NDManager owner;
  private final int capacity;
  private final NDArray[] keys;
  private final NDArray[] values;
  private final long[] lengths;

  /**
   * An empty cache for {@code layers} layers holding at most {@code capacity} positions per row,
   * whose buffers will belong to {@code owner}.
   */
  public KvCache(NDManager owner, int layers, int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("cache capacity must be ≥ 1, got " + capacity);
    }
    this.owner = owner;
    this.capacity = capacity;
    this.keys = new NDArray[layers];
    this.values = new NDArray[layers];
    this.lengths = new long[layers];
  }

  /**
   * Writes this step's keys/values [batch, kvHeads, seq, headDim] after the cached ones and returns
   * views of everything cached for the layer, owned by the manager of {@code key}.
   *
   * @param seq positions in {@code key} and {@code value}
   * @throws IllegalStateException if the cache would exceed its capacity
   */
  NDList update(int layer, NDArray key, NDArray value, long seq) {
    long start = lengths[layer];
    long end = start + seq;
    if (end > capacity) {
      throw new IllegalStateException(
          "KV cache holds " + capacity + " positions; cannot grow to " + end);
    }
    if (keys[layer] == null) {
      keys[layer] = allocate(key);
      values[layer] = allocate(value);
    }
    // Indices built rather than parsed from a string: this runs twice per layer and decode step.
    NDIndex slot = new NDIndex().addAllDim(2).addSliceDim(start, end);
    keys[layer].set(slot, key);
    values[layer].set(slot, value);
    lengths[layer] = end;
    NDManager step = key.getManager();
    return new NDList(filled(keys[layer], end, step), filled(values[layer], end, step));
  }

  /**
   * The view [:, :, :end] of {@code buffer}, owned by {@code step}. A split at {@code end} is one
   * operator call where an index op is several (this runs twice per layer and decode step); the
   * unused rest is closed with the step.
   */
  private static NDArray filled(NDArray buffer, long end, NDManager step) {
    NDList parts = buffer.split(new long[] {end}, 2);
    parts.attach(step);
    return parts.get(0);
  }

  /** Number of cached positions (keys), 0 when empty. */
  public long length() {
    return lengths[0];
  }

  /** Positions each row can hold. */
  public int capacity() {
    return capacity;
  }

  /**
   * Keeps only the given batch rows, in the given order (a row may repeat): used to copy each
   * prompt's prefill K times and to drop finished sequences.
   */
  public void selectRows(long[] rows) {
    try (NDManager scratch = owner.newSubManager()) {
      NDArray index = scratch.create(rows);
      for (int i = 0; i < keys.length; i++) {
        if (keys[i] != null) {
          keys[i] = gather(keys[i], index);
          values[i] = gather(values[i], index);
        }
      }
    }
  }

  private NDArray allocate(NDArray like) {
    Shape shape = like.getShape();
    return owner.zeros(
        new Shape(shape.get(0), shape.get(1), capacity, shape.get(3)), like.getDataType());
  }

  private NDArray gather(NDArray array, NDArray rows) {
    NDArray selected = array.get(owner, new NDIndex("{}", rows));
    array.close();
    return selected;
  }
}

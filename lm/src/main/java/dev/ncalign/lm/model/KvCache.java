package dev.ncalign.lm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;

/**
 * Past keys and values of every layer, [batch, kvHeads, keys, headDim] each, after rotary embedding
 * (HF {@code DynamicCache}). The arrays belong to {@code owner}, so per-step scratch managers can
 * be closed while the cache lives on; replaced arrays are closed at once to keep memory flat.
 */
public final class KvCache {

  private final NDManager owner;
  private final NDArray[] keys;
  private final NDArray[] values;

  /** An empty cache for {@code layers} layers whose arrays will belong to {@code owner}. */
  public KvCache(NDManager owner, int layers) {
    this.owner = owner;
    this.keys = new NDArray[layers];
    this.values = new NDArray[layers];
  }

  /**
   * Appends this step's keys/values along the sequence axis and returns everything cached for the
   * layer.
   */
  NDList update(int layer, NDArray key, NDArray value) {
    keys[layer] = append(keys[layer], key);
    values[layer] = append(values[layer], value);
    return new NDList(keys[layer], values[layer]);
  }

  /** Number of cached positions (keys), 0 when empty. */
  public long length() {
    return keys[0] == null ? 0 : keys[0].getShape().get(2);
  }

  /**
   * Keeps only the given batch rows, in the given order (a row may repeat): used to copy each
   * prompt's prefill K times and to drop finished sequences.
   */
  public void selectRows(long[] rows) {
    try (NDManager scratch = owner.newSubManager()) {
      NDArray index = scratch.create(rows);
      for (int i = 0; i < keys.length; i++) {
        keys[i] = gather(keys[i], index);
        values[i] = gather(values[i], index);
      }
    }
  }

  private NDArray append(NDArray past, NDArray current) {
    NDArray merged = past == null ? current : past.concat(current, 2);
    merged.attach(owner);
    if (past != null) {
      past.close();
    }
    return merged;
  }

  private NDArray gather(NDArray array, NDArray rows) {
    NDArray selected = array.get(new NDIndex("{}", rows));
    selected.attach(owner);
    array.close();
    return selected;
  }
}

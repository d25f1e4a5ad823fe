package dev.ncalign.policy.serving;

import dev.ncalign.lm.model.CausalLm;

/**
 * One request's hold on a weight version: the model stays open until every lease on it is closed,
 * even after a newer version went live.
 */
public final class PolicyLease implements AutoCloseable {

  private final PolicyRegistry.Slot slot;
  private boolean closed;

  PolicyLease(PolicyRegistry.Slot slot) {
    this.slot = slot;
  }

  public CausalLm model() {
    return slot.model;
  }

  public long version() {
    return slot.version;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      slot.release();
    }
  }
}

package dev.ncalign.policy.scheduling;

import dev.ncalign.policy.metrics.PolicyMetrics;
import java.util.function.BooleanSupplier;

/**
 * When a request may run model work (Generate's decode loop, ComputeLogprobs' forwards): once
 * admitted by the {@link RunQueue} (at most N at once), and only while no push holds the {@link
 * SwapPriorityGate}, checked before the first step and between steps. Waiting time goes to the
 * metrics.
 */
public final class WorkScheduler {

  private final RunQueue queue;
  private final SwapPriorityGate gate;
  private final PolicyMetrics metrics;

  public WorkScheduler(RunQueue queue, SwapPriorityGate gate, PolicyMetrics metrics) {
    this.queue = queue;
    this.gate = gate;
    this.metrics = metrics;
  }

  /** At most {@code maxRunning} at once, the default stall, no metrics. */
  public static WorkScheduler of(int maxRunning) {
    return new WorkScheduler(
        new RunQueue(maxRunning), SwapPriorityGate.withDefaultStall(), PolicyMetrics.disabled());
  }

  /**
   * Waits for a run slot, then for the gate; close the result when the work is done.
   *
   * @param cancelled the caller gave up (client cancel, deadline): leave the queue
   * @throws dev.ncalign.serving.RefusedRequestException CANCELLED if cancelled while queued
   */
  public Run admit(BooleanSupplier cancelled) {
    long start = System.nanoTime();
    RunQueue.Slot slot = queue.enter(cancelled);
    metrics.queued(System.nanoTime() - start);
    Run run = new Run(slot, cancelled);
    run.betweenSteps();
    return run;
  }

  /** The gate pushes hold. */
  public SwapPriorityGate gate() {
    return gate;
  }

  /** The run queue. */
  public RunQueue queue() {
    return queue;
  }

  /** One admitted request. */
  public final class Run implements AutoCloseable {
    private final RunQueue.Slot slot;
    private final BooleanSupplier cancelled;

    private Run(RunQueue.Slot slot, BooleanSupplier cancelled) {
      this.slot = slot;
      this.cancelled = cancelled;
    }

    /**
     * Call between model steps: pauses while a push holds the gate, then reports whether the caller
     * gave up. Shaped as the sampler's {@code cancelled} poll, which it calls between decode steps.
     */
    public boolean betweenSteps() {
      long paused = gate.awaitOpen(cancelled);
      if (paused > 0) {
        metrics.paused(paused);
      }
      return cancelled.getAsBoolean();
    }

    /** Frees the run slot for the next queued request. */
    @Override
    public void close() {
      slot.close();
    }
  }
}

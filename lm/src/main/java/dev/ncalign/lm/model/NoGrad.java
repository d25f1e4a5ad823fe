package dev.ncalign.lm.model;

import ai.djl.pytorch.jni.JniUtils;

/**
 * Turns PyTorch autograd recording off for the current thread until closed, then restores it. The
 * parameters require gradients (for the learner), so without this every inference forward would
 * build an autograd graph; PyTorch's grad mode is thread-local, so gRPC threads need it explicitly.
 */
public final class NoGrad implements AutoCloseable {

  private final boolean previous;

  private NoGrad() {
    previous = JniUtils.isGradMode();
    JniUtils.setGradMode(false);
  }

  /** Starts a no-grad region on this thread. */
  public static NoGrad enter() {
    return new NoGrad();
  }

  /** Whether autograd recording is off on this thread (inside a no-grad region). */
  public static boolean active() {
    return !JniUtils.isGradMode();
  }

  @Override
  public void close() {
    JniUtils.setGradMode(previous);
  }
}

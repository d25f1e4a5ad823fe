package dev.ncalign.demo;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Runs a demo model build on one libtorch intra-op thread, then restores the previous count.
 *
 * <p>Why: libtorch splits reductions and matrix products among its threads, and the split changes
 * the order in which floats are added, so the same seed trained on one thread and on two gives
 * weights that differ in their last bits, and after hundreds of optimizer steps models that score
 * visibly differently. The demo's models are built once and cached for every later run, so what
 * they are must not depend on {@code NCALIGN_TORCH_THREADS} or on the machine's core count. One
 * thread also costs nothing here: the models are tiny, and on a busy two-core machine two threads
 * made each step of the reward fit about ten times slower.
 */
final class SingleTorchThread {

  /** A build step that may fail with a checked exception. */
  @FunctionalInterface
  interface Build<T, E extends Exception> {
    T run() throws E;
  }

  private SingleTorchThread() {}

  /** Runs {@code build} with libtorch's intra-op thread count at 1 and returns its result. */
  static <T, E extends Exception> T run(Build<T, E> build) throws E {
    // Loads libtorch if nothing has yet: JniUtils needs the native library.
    Engine.getEngine("PyTorch");
    int threads = JniUtils.getNumThreads();
    JniUtils.setNumThreads(1);
    try {
      return build.run();
    } finally {
      JniUtils.setNumThreads(threads);
    }
  }
}

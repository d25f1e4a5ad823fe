package dev.ncalign.lm.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.function.Supplier;

/**
 * Times a task a few times and keeps the best wall-clock and the best CPU time: the machine is
 * shared, and the least disturbed run is the closest to what the code costs. Short tasks run up to
 * {@code maxRuns} times; a task stops being repeated once its runs have taken {@code
 * budgetSeconds}, so one long run is not tripled.
 */
final class BestOfRuns {

  /**
   * @param value what the last run returned
   * @param wallSeconds the shortest wall-clock time of a run
   * @param cpuSeconds the smallest CPU time of the calling thread in a run; libtorch runs its ops
   *     on the calling thread when it has one thread, and other jobs on the machine do not count
   * @param runs how many runs were timed
   */
  record Result<T>(T value, double wallSeconds, double cpuSeconds, int runs) {}

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private BestOfRuns() {}

  static <T> Result<T> measure(Supplier<T> task, int maxRuns, double budgetSeconds) {
    if (maxRuns < 1) {
      throw new IllegalArgumentException("maxRuns must be ≥ 1, got " + maxRuns);
    }
    T value = null;
    double bestWall = Double.MAX_VALUE;
    double bestCpu = Double.MAX_VALUE;
    double spent = 0;
    int runs = 0;
    while (runs < maxRuns && (runs == 0 || spent < budgetSeconds)) {
      long cpuStart = THREADS.getCurrentThreadCpuTime();
      long start = System.nanoTime();
      value = task.get();
      double wall = (System.nanoTime() - start) / 1e9;
      bestCpu = Math.min(bestCpu, (THREADS.getCurrentThreadCpuTime() - cpuStart) / 1e9);
      bestWall = Math.min(bestWall, wall);
      spent += wall;
      runs++;
    }
    return new Result<>(value, bestWall, bestCpu, runs);
  }
}

package dev.ncalign.lm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BestOfRunsTest {

  @Test
  void shortTasksRunUpToTheLimitAndKeepTheBestTimes() {
    AtomicInteger calls = new AtomicInteger();
    BestOfRuns.Result<Integer> result = BestOfRuns.measure(calls::incrementAndGet, 3, 10);
    assertEquals(3, result.runs());
    assertEquals(3, calls.get());
    assertEquals(3, result.value());
    assertTrue(result.wallSeconds() >= 0 && result.wallSeconds() < 1, result.toString());
  }

  @Test
  void aTaskIsNotRepeatedOnceItsRunsHaveTakenTheBudget() {
    BestOfRuns.Result<String> result = BestOfRuns.measure(() -> sleep(40), 5, 0.07);
    // 40 ms, then 80 ms ≥ 70 ms: two runs.
    assertEquals(2, result.runs());
    assertTrue(result.wallSeconds() >= 0.04, result.toString());
    // Sleeping costs the thread (almost) no CPU.
    assertTrue(result.cpuSeconds() < 0.02, result.toString());
  }

  @Test
  void needsAtLeastOneRun() {
    assertThrows(IllegalArgumentException.class, () -> BestOfRuns.measure(() -> 1, 0, 1));
  }

  private static String sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return "slept";
  }
}

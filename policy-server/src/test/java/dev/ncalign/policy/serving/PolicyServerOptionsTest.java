package dev.ncalign.policy.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class PolicyServerOptionsTest {

  @Test
  void runsOneRequestPerCoreByDefaultAndRefusesABoundBelowOne() {
    PolicyServerOptions options = PolicyServerOptions.defaults(Path.of("model"));
    assertEquals(Runtime.getRuntime().availableProcessors(), options.maxRunningRequests());
    assertEquals(3, options.withMaxRunningRequests(3).maxRunningRequests());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> options.withMaxRunningRequests(0));
    assertEquals("--max-running-requests must be ≥ 1, got 0", e.getMessage());
  }
}

package dev.ncalign.policy.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDManager;
import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.lm.model.TestModels;
import dev.ncalign.proto.v1.GenerateRequest;
import dev.ncalign.proto.v1.LogprobsItem;
import dev.ncalign.proto.v1.LogprobsRequest;
import dev.ncalign.proto.v1.SamplingParams;
import dev.ncalign.serving.TextLimit;
import java.io.ByteArrayInputStream;
import org.junit.jupiter.api.Test;

class PolicyRegistryTest {

  @Test
  void oldVersionLivesUntilItsLastLeaseEnds() {
    byte[] next = ServingFixtures.weights(21);
    try (PolicyRegistry registry = new PolicyRegistry(TestModels.loadTiny())) {
      PolicyLease running = registry.acquire();
      CausalLm first = running.model();
      registry.push(2, new ByteArrayInputStream(next));
      assertEquals(2, registry.liveVersion());
      assertEquals(1, running.version(), "a running request keeps its version");
      assertTrue(first.manager().isOpen(), "weights still in use");
      try (PolicyLease fresh = registry.acquire()) {
        assertEquals(2, fresh.version());
        assertNotSame(first, fresh.model());
      }
      running.close();
      assertFalse(first.manager().isOpen(), "freed after the last request on it");
    }
  }

  @Test
  void failedPushKeepsTheLiveVersionAndFreesTheStandby() {
    try (PolicyRegistry registry = new PolicyRegistry(TestModels.loadTiny())) {
      long before = arraysInEngine();
      byte[] good = ServingFixtures.weights(22);
      byte[] truncated = java.util.Arrays.copyOf(good, good.length - 100);
      assertThrows(
          IllegalArgumentException.class,
          () -> registry.push(2, new ByteArrayInputStream(truncated)));
      assertThrows(
          StaleVersionException.class, () -> registry.push(1, new ByteArrayInputStream(good)));
      assertEquals(1, registry.liveVersion());
      assertEquals(before, arraysInEngine(), "the standby model was closed");
    }
  }

  /**
   * Native memory stays flat over many requests and swaps: every NDArray of every request, step and
   * retired version is closed (counted over all NDManagers of the engine).
   */
  @Test
  void manyRequestsAndSwapsLeaveNoArraysBehind() {
    byte[][] versions = {ServingFixtures.weights(31), ServingFixtures.weights(32)};
    PolicyLimits limits =
        new PolicyLimits(4, 4, 8, 1 << 24, new TextLimit(TextLimit.DEFAULT_MAX_CHARS));
    try (PolicyRegistry registry = new PolicyRegistry(TestModels.loadTiny())) {
      Policy policy = new Policy(registry, limits, "memory-test");
      GenerateRequest generate =
          GenerateRequest.newBuilder()
              .addPrompts("the cat")
              .addPrompts("a dog ran")
              .setNumSamples(2)
              .setSampling(SamplingParams.newBuilder().setMaxNewTokens(3).setTemperature(1f))
              .build();
      LogprobsRequest logprobs =
          LogprobsRequest.newBuilder()
              .addItems(LogprobsItem.newBuilder().setPrompt("the").setResponse("cat sat"))
              .addItems(LogprobsItem.newBuilder().setPrompt("").setResponse("hello world !"))
              .build();
      long version = 1;
      // Warm-up: lazily created engine state is not a leak.
      policy.generate(generate, () -> false);
      policy.computeLogprobs(logprobs);
      registry.push(++version, new ByteArrayInputStream(versions[0]));
      long baseline = arraysInEngine();
      for (int i = 0; i < 1000; i++) {
        if (i % 2 == 0) {
          policy.generate(generate, () -> false);
        } else {
          policy.computeLogprobs(logprobs);
        }
        if (i % 25 == 0) {
          registry.push(++version, new ByteArrayInputStream(versions[i % 2]));
        }
      }
      assertEquals(baseline, arraysInEngine(), "NDArrays leaked");
      assertEquals(version, registry.liveVersion());
    }
  }

  /**
   * Arrays alive in all NDManagers of the engine (the system manager counts its sub-managers' too).
   */
  private static long arraysInEngine() {
    try (NDManager probe = NDManager.newBaseManager()) {
      return ((BaseNDManager) probe.getParentManager()).getManagedArrays().size();
    }
  }
}

package dev.ncalign.lm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import org.junit.jupiter.api.Test;

class EngineTest {

  @Test
  void pytorchEngineLoadsOffline() {
    assertEquals(
        "true", System.getProperty("ai.djl.offline"), "tests must run with -Dai.djl.offline=true");
    assertEquals("PyTorch", Engine.getInstance().getEngineName());
  }
}

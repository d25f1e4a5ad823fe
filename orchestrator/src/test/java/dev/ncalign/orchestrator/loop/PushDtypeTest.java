package dev.ncalign.orchestrator.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.lm.model.TestModels;
import dev.ncalign.lm.model.WeightDType;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class PushDtypeTest {

  @Test
  void autoPushesTheBaseCheckpointsTypeAndHalvesTheBytesOfABf16Model() {
    Path bf16 = TestModels.tempDir("bf16-base");
    try (CausalLm f32 = TestModels.loadTiny()) {
      f32.save(bf16, WeightDType.BF16);
      assertEquals(WeightDType.F32, AlignmentRun.pushDtype("auto", f32));
      assertEquals(WeightDType.BF16, AlignmentRun.pushDtype("bfloat16", f32));
    }
    try (CausalLm base = CausalLm.load(bf16, Device.cpu())) {
      WeightDType auto = AlignmentRun.pushDtype("auto", base);
      assertEquals(WeightDType.BF16, auto);
      assertEquals(WeightDType.F32, AlignmentRun.pushDtype("float32", base));
      ByteArrayOutputStream pushed = new ByteArrayOutputStream();
      base.writeSafetensors(pushed, auto);
      assertEquals(base.safetensorsSize(auto), pushed.size());
      // Two bytes a parameter instead of four; the headers differ only in dtype names and offsets.
      long f32Bytes = base.safetensorsSize(WeightDType.F32);
      assertTrue(
          Math.abs((f32Bytes - pushed.size()) - 2 * base.parameterCount()) < 4096,
          pushed.size() + " bytes pushed vs " + f32Bytes + " in float32");
    }
  }
}

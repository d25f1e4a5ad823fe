package dev.ncalign.lm.lora;

import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.lm.model.Safetensors;
import dev.ncalign.lm.model.TestModels;
import dev.ncalign.lm.model.WeightArrays;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

/** LoRA adapters for tests in any module (this class ships in the lm test-jar). */
public final class TestAdapters {

  private TestAdapters() {}

  /** All seven linear targets, r = 4, alpha = 8, no dropout. */
  public static final LoraConfig ALL_LINEAR =
      new LoraConfig(4, 8, 0.0, LoraConfig.KNOWN_TARGETS, "tiny");

  /** A PEFT-initialised adapter whose B are then filled, so it changes the model. */
  public static LoraAdapter random(CausalLm base, LoraConfig config, long seed) {
    LoraAdapter adapter = LoraAdapter.initialize(base, config, seed);
    randomizeB(adapter, seed + 1);
    return adapter;
  }

  /**
   * The adapter's tensors as a safetensors file after {@code edit} changed them (by PEFT name):
   * adapters that must be refused.
   */
  public static byte[] edited(LoraAdapter adapter, Consumer<Map<String, Safetensors.Tensor>> edit) {
    return TestModels.edited(adapter.parameters(), edit);
  }

  /** Fills every B (PEFT starts them at zero) with N(0, 0.2²). */
  public static void randomizeB(LoraAdapter adapter, long seed) {
    Random random = new Random(seed);
    adapter
        .parameters()
        .forEach(
            (name, p) -> {
              if (name.endsWith("lora_B.weight")) {
                float[] values = new float[Math.toIntExact(p.getArray().size())];
                for (int i = 0; i < values.length; i++) {
                  values[i] = (float) (random.nextGaussian() * 0.2);
                }
                WeightArrays.copyInto(p.getArray(), values);
              }
            });
  }
}

package dev.ncalign.lm.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.lm.model.TestModels;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The LoRA forward, its gradients, merging and initialisation on the tiny model. */
class LoraAdapterTest {

  static final LoraConfig ALL_LINEAR = TestAdapters.ALL_LINEAR;

  static void randomizeB(LoraAdapter adapter, long seed) {
    TestAdapters.randomizeB(adapter, seed);
  }

  static float[] logprobs(CausalLm lm) {
    try (NDManager scope = lm.manager().newSubManager()) {
      return lm.logprobs(
              scope,
              List.of(lm.codec().encodePrompt("the cat"), lm.codec().encodePrompt("a dog")),
              List.of(
                  lm.codec().encodeResponse("sat on the mat ."),
                  lm.codec().encodeResponse("ran here !")),
              false)
          .tokenLogprobs()
          .toFloatArray();
    }
  }

  @Test
  void peftInitialisationLeavesTheModelUnchangedAndBoundsA() {
    try (CausalLm base = TestModels.loadTiny()) {
      float[] before = logprobs(base);
      try (CausalLm view = base.withAdapter(LoraAdapter.initialize(base, ALL_LINEAR, 7))) {
        // B = 0: x·Wᵀ + 0 is bit-for-bit the base output.
        assertArrayEquals(before, logprobs(view));
        LoraAdapter adapter = (LoraAdapter) view.adapter();
        int layers = base.config().numHiddenLayers();
        assertEquals(2 * 7 * layers, adapter.parameters().size());
        for (Map.Entry<String, Parameter> e : adapter.parameters().entrySet()) {
          float[] values = e.getValue().getArray().toFloatArray();
          if (e.getKey().endsWith("lora_B.weight")) {
            for (float v : values) {
              assertEquals(0f, v);
            }
          } else {
            double bound = 1 / Math.sqrt(e.getValue().getArray().getShape().get(1));
            double maxAbs = 0;
            for (float v : values) {
              maxAbs = Math.max(maxAbs, Math.abs(v));
            }
            assertTrue(maxAbs <= bound && maxAbs > bound / 2, e.getKey() + " max |a| " + maxAbs);
          }
        }
        assertTrue(
            adapter
                .parameters()
                .containsKey("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"));
        assertArrayEquals(
            new long[] {4, base.config().hiddenSize()},
            adapter
                .parameters()
                .get("base_model.model.model.layers.0.mlp.up_proj.lora_A.weight")
                .getArray()
                .getShape()
                .getShape());
        assertArrayEquals(
            new long[] {base.config().intermediateSize(), 4},
            adapter
                .parameters()
                .get("base_model.model.model.layers.0.mlp.up_proj.lora_B.weight")
                .getArray()
                .getShape()
                .getShape());
      }
    }
  }

  @Test
  void loraForwardEqualsTheMergedWeightsForwardAndAdaptersOffEqualsTheBase() {
    try (CausalLm base = TestModels.loadTiny();
        CausalLm merged = TestModels.loadTiny()) {
      float[] baseBefore = logprobs(base);
      LoraAdapter adapter = LoraAdapter.initialize(base, ALL_LINEAR, 3);
      randomizeB(adapter, 5);
      try (CausalLm view = base.withAdapter(adapter)) {
        float[] lora = logprobs(view);
        adapter.mergeInto(merged);
        float[] mergedLogprobs = logprobs(merged);
        assertArrayEquals(mergedLogprobs, lora, 2e-4f);
        double change = 0;
        for (int i = 0; i < lora.length; i++) {
          change = Math.max(change, Math.abs(lora[i] - baseBefore[i]));
        }
        assertTrue(change > 0.05, "the adapter barely changes the model: " + change);
        // The base model itself is the adapters-off model: unchanged, exactly.
        assertArrayEquals(baseBefore, logprobs(base));
      }
    }
  }

  @Test
  void aSubsetOfTargetsAdaptsOnlyThoseLayers() {
    LoraConfig qv = new LoraConfig(2, 4, 0.0, List.of("q_proj", "v_proj"), "");
    try (CausalLm base = TestModels.loadTiny();
        CausalLm merged = TestModels.loadTiny()) {
      LoraAdapter adapter = LoraAdapter.initialize(base, qv, 3);
      randomizeB(adapter, 9);
      try (CausalLm view = base.withAdapter(adapter)) {
        assertEquals(2 * 2 * base.config().numHiddenLayers(), adapter.parameters().size());
        adapter.mergeInto(merged);
        assertArrayEquals(logprobs(merged), logprobs(view), 2e-4f);
      }
    }
  }

  @Test
  void gradientsReachOnlyAAndB() {
    try (CausalLm base = TestModels.loadTiny()) {
      LoraAdapter adapter = LoraAdapter.initialize(base, ALL_LINEAR, 3);
      randomizeB(adapter, 5);
      try (CausalLm view = base.withAdapter(adapter);
          NDManager scope = base.manager().newSubManager();
          GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray loss =
            view.logprobs(
                    scope,
                    List.of(base.codec().encodePrompt("the cat")),
                    List.of(base.codec().encodeResponse("sat on the mat .")),
                    true)
                .sums()
                .neg()
                .sum();
        collector.backward(loss);
        for (Parameter p : base.parameters().values()) {
          assertFalse(p.getArray().hasGradient(), p.getName() + " is frozen but has a gradient");
        }
        assertEquals(adapter.parameters(), view.trainableParameters());
        for (Map.Entry<String, Parameter> e : adapter.parameters().entrySet()) {
          try (NDArray gradient = e.getValue().getArray().getGradient()) {
            float norm = gradient.abs().sum().getFloat();
            assertTrue(norm > 0, e.getKey() + " got no gradient");
          }
        }
      }
    }
  }

  @Test
  void aViewRefusesToSaveTheBaseWeightsAsIfTheyWereItsOwn() {
    try (CausalLm base = TestModels.loadTiny();
        CausalLm view = base.withAdapter(LoraAdapter.initialize(base, ALL_LINEAR, 1))) {
      assertThrows(
          IllegalStateException.class,
          () -> view.writeSafetensors(java.io.OutputStream.nullOutputStream()));
      assertThrows(
          IllegalStateException.class,
          () -> view.withAdapter(LoraAdapter.initialize(base, ALL_LINEAR, 2)));
    }
  }
}

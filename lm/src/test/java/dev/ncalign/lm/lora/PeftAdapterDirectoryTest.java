package dev.ncalign.lm.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.lm.model.Safetensors;
import dev.ncalign.lm.model.TestModels;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** PEFT's directory format, and adapters that do not fit the base refused with a reason. */
class PeftAdapterDirectoryTest {

  private static final LoraConfig CONFIG = LoraAdapterTest.ALL_LINEAR;

  @Test
  void saveThenLoadRestoresEveryTensorAndWritesPeftsConfig() throws Exception {
    Path dir = TestModels.tempDir("adapter");
    try (CausalLm base = TestModels.loadTiny();
        LoraAdapter adapter = LoraAdapter.initialize(base, CONFIG, 11)) {
      LoraAdapterTest.randomizeB(adapter, 12);
      PeftAdapterDirectory.save(adapter, dir);
      JsonNode json = new ObjectMapper().readTree(dir.resolve("adapter_config.json").toFile());
      assertEquals("LORA", json.get("peft_type").asText());
      assertEquals("CAUSAL_LM", json.get("task_type").asText());
      assertEquals(4, json.get("r").asInt());
      assertEquals(8.0, json.get("lora_alpha").asDouble());
      assertEquals("none", json.get("bias").asText());
      assertEquals(false, json.get("fan_in_fan_out").asBoolean());
      assertEquals(false, json.get("use_rslora").asBoolean());
      assertEquals(7, json.get("target_modules").size());
      assertEquals("tiny", json.get("base_model_name_or_path").asText());
      assertTrue(PeftAdapterDirectory.isAdapter(dir));
      try (LoraAdapter loaded = PeftAdapterDirectory.load(dir, base)) {
        assertEquals(CONFIG, loaded.config());
        assertEquals(adapter.parameters().keySet(), loaded.parameters().keySet());
        adapter
            .parameters()
            .forEach(
                (name, p) ->
                    assertArrayEquals(
                        p.getArray().toFloatArray(),
                        loaded.parameters().get(name).getArray().toFloatArray(),
                        name));
      }
    }
  }

  @Test
  void aTensorOfTheWrongShapeIsRefusedNamingIt() {
    String name = "base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight";
    IllegalArgumentException e = refused(CONFIG, tensors -> tensors.put(name, zeros(3, 4)));
    assertTrue(e.getMessage().contains(name) && e.getMessage().contains("[3, 4]"), e.getMessage());
  }

  @Test
  void aTensorForAModuleOutsideTheTargetsIsRefused() {
    LoraConfig qOnly = new LoraConfig(4, 8, 0, List.of("q_proj"), "");
    IllegalArgumentException e = refused(qOnly, tensors -> {});
    assertTrue(e.getMessage().contains("outside target_modules [q_proj]"), e.getMessage());
  }

  @Test
  void aRankThatDisagreesWithTheConfigJsonIsRefused() {
    LoraConfig rank2 = new LoraConfig(2, 8, 0, LoraConfig.KNOWN_TARGETS, "");
    IllegalArgumentException e = refused(rank2, tensors -> {});
    assertTrue(e.getMessage().contains("rank 2 in adapter_config.json"), e.getMessage());
  }

  @Test
  void aMissingOrForeignTensorIsRefused() {
    String name = "base_model.model.model.layers.1.mlp.down_proj.lora_A.weight";
    assertTrue(refused(CONFIG, t -> t.remove(name)).getMessage().contains("missing tensor"));
    assertTrue(
        refused(CONFIG, t -> t.put("model.norm.weight", zeros(1)))
            .getMessage()
            .contains("not a LoRA A or B weight"));
  }

  @Test
  void configJsonThatThisModelCannotApplyIsRefusedNamingTheField() {
    String good = CONFIG.toPeftJson();
    assertEquals(CONFIG, LoraConfig.fromPeftJson(good));
    assertMessage(good.replace("\"q_proj\"", "\"lm_head\""), "target_modules: unknown module");
    assertMessage(good.replace("\"LORA\"", "\"IA3\""), "peft_type must be \"LORA\"");
    assertMessage(good.replace("\"use_rslora\" : false", "\"use_rslora\" : true"), "use_rslora");
    assertMessage(good.replace("\"r\" : 4", "\"r\" : 0"), "r must be ≥ 1");
    assertMessage("[]", "must be a JSON object");
    assertMessage("{", "is not JSON");
  }

  private static void assertMessage(String json, String expected) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> LoraConfig.fromPeftJson(json));
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }

  /**
   * Writes a valid all-linear rank-4 adapter's tensors, edited by {@code edit}, and reads them
   * under {@code config}: the read must fail.
   */
  private static IllegalArgumentException refused(
      LoraConfig config, Consumer<Map<String, Safetensors.Tensor>> edit) {
    try (CausalLm base = TestModels.loadTiny();
        LoraAdapter adapter = LoraAdapter.initialize(base, CONFIG, 1)) {
      byte[] bytes = TestAdapters.edited(adapter, edit);
      return assertThrows(
          IllegalArgumentException.class,
          () -> LoraAdapter.read(base, config, new ByteArrayInputStream(bytes)));
    }
  }

  private static Safetensors.Tensor zeros(long... shape) {
    long n = 1;
    for (long s : shape) {
      n *= s;
    }
    return new Safetensors.Tensor(shape, new float[Math.toIntExact(n)]);
  }
}

package dev.ncalign.lm.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Real-checkpoint layouts: a Llama-3.2-style directory (llama3 rope_scaling, tied embeddings, BF16
 * shards behind an index, eos ids in config.json and generation_config.json) and a Qwen2.5-style
 * one (q/k/v biases, F16), plus every way a directory can be broken.
 */
class HfModelDirectoryTest {

  private static final int[] IDS = {1, 5, 9, 4, 30, 12, 7, 7, 22, 3};

  @Test
  void loadsAShardedBf16Llama32DirectoryAndSavesItBackInBf16() throws Exception {
    Path dir = TestModels.tempDir("llama32");
    Map<String, float[]> written =
        ModelFixtures.write(dir, ModelFixtures.llama32Config(0), WeightDType.BF16, 2, 5);
    Files.writeString(
        dir.resolve(HfModelDirectory.GENERATION_CONFIG),
        "{\"bos_token_id\": 1, \"eos_token_id\": [2, 3], \"do_sample\": true}");
    assertFalse(Files.exists(dir.resolve(HfModelDirectory.WEIGHTS)));

    try (CausalLm lm = CausalLm.load(dir, Device.cpu())) {
      assertEquals("llama3", lm.config().ropeScaling().type());
      assertEquals(List.of(2, 3), lm.config().eosTokenIds());
      assertTrue(lm.codec().isEos(3), "eos from generation_config.json");
      assertEquals(WeightDType.BF16, lm.baseDType());
      assertEquals(WeightDType.F32, lm.dtype());
      assertFalse(lm.parameters().containsKey("lm_head.weight"), "tied");
      lm.parameters()
          .forEach(
              (name, p) -> {
                float[] expected = written.get(name).clone();
                for (int i = 0; i < expected.length; i++) {
                  expected[i] = ModelFixtures.rounded(expected[i], WeightDType.BF16);
                }
                assertArrayEquals(expected, p.getArray().toFloatArray(), name);
              });
      HfEquivalenceTest.assertLogitsMatchReference(lm, IDS, 1e-4);

      Path saved = TestModels.tempDir("llama32-saved");
      lm.save(saved);
      try (SafetensorsFile file = SafetensorsFile.open(saved.resolve(HfModelDirectory.WEIGHTS))) {
        file.header().values().forEach(info -> assertEquals("BF16", info.dtype(), info.name()));
      }
      ObjectNode config =
          (ObjectNode) ModelFixtures.JSON.readTree(saved.resolve("config.json").toFile());
      assertEquals("bfloat16", config.get("torch_dtype").asText());
      assertEquals("llama3", config.get("rope_scaling").get("rope_type").asText());
      assertTrue(Files.exists(saved.resolve(HfModelDirectory.GENERATION_CONFIG)));
      try (CausalLm reloaded = CausalLm.load(saved, Device.cpu())) {
        ModelFixtures.assertSameWeights(lm, reloaded);
      }
    }
  }

  @Test
  void loadsAQwen25F16DirectoryAsFloat32AndAsFloat16() throws Exception {
    Path dir = TestModels.tempDir("qwen25");
    ModelFixtures.write(dir, ModelFixtures.qwen25Config(0), WeightDType.F16, 1, 6);
    try (CausalLm f32 = CausalLm.load(dir, Device.cpu());
        CausalLm f16 = CausalLm.load(dir, Device.cpu(), WeightDType.F16);
        NDManager scope = f32.manager().newSubManager()) {
      assertTrue(f32.config().qkvBias());
      assertTrue(f32.parameters().containsKey("model.layers.1.self_attn.k_proj.bias"));
      assertEquals(WeightDType.F16, f32.baseDType());
      assertEquals(
          DataType.FLOAT16, f16.parameters().get("model.norm.weight").getArray().getDataType());
      assertArrayEquals(
          f32.parameters().get("model.layers.0.self_attn.q_proj.bias").getArray().toFloatArray(),
          f16.parameters()
              .get("model.layers.0.self_attn.q_proj.bias")
              .getArray()
              .toType(DataType.FLOAT32, false)
              .toFloatArray(),
          "F16 file into F16 arrays is exact");
      HfEquivalenceTest.assertLogitsMatchReference(f32, IDS, 1e-4);
      float[] full = HfEquivalenceTest.logits(f32, scope, IDS);
      float[] half = HfEquivalenceTest.logits(f16, scope, IDS);
      double maxDiff = 0;
      for (int i = 0; i < full.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(full[i] - half[i]));
      }
      // float16 activations keep ~3 significant digits; logits here are of order 1.
      assertTrue(maxDiff < 0.05, "float16 forward within 0.05 of float32, was " + maxDiff);
      assertTrue(maxDiff > 0, "the float16 forward really ran in float16");
    }
  }

  @Test
  void aBrokenDirectoryIsOneLineNamingTheFileAndField() throws Exception {
    assertBroken("config.json: missing file", dir -> delete(dir, "config.json"));
    assertBroken(
        "config.json: missing integer field 'hidden_size'",
        dir -> editConfig(dir, c -> c.remove("hidden_size")));
    assertBroken(
        "config.json: rope_scaling type 'yarn' is not supported",
        dir ->
            editConfig(
                dir, c -> c.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0)));
    assertBroken(
        "config.json: missing number field 'rope_scaling.original_max_position_embeddings'",
        dir ->
            editConfig(
                dir,
                c ->
                    ((ObjectNode) c.get("rope_scaling"))
                        .remove("original_max_position_embeddings")));
    assertBroken("tokenizer.json: missing file", dir -> delete(dir, "tokenizer.json"));
    assertBroken(
        "model.safetensors.index.json: weight_map names shard 'model-00002-of-00002.safetensors', which is absent",
        dir -> delete(dir, "model-00002-of-00002.safetensors"));
    assertBroken(
        "model.safetensors: missing file", dir -> delete(dir, HfModelDirectory.WEIGHTS_INDEX));
    assertBroken(
        "model.safetensors.index.json: tensor 'model.norm.weight' has shape [65], expected [64]"
            + " (in model-00002-of-00002.safetensors)",
        dir -> rewriteWithShape(dir, "model.norm.weight", new long[] {65}));
    assertBroken(
        "model.safetensors.index.json: missing tensor 'model.norm.weight'",
        dir -> rewriteWithShape(dir, "model.norm.weight", null));
  }

  private static void assertBroken(String message, Consumer<Path> breakIt) throws Exception {
    Path dir = TestModels.tempDir("broken");
    ModelFixtures.write(dir, ModelFixtures.llama32Config(0), WeightDType.BF16, 2, 9);
    breakIt.accept(dir);
    ModelDirectoryException e =
        assertThrows(ModelDirectoryException.class, () -> CausalLm.load(dir, Device.cpu()).close());
    assertTrue(e.getMessage().contains(message), e.getMessage());
    assertTrue(e.getMessage().startsWith(dir.toString()), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
  }

  private static void delete(Path dir, String file) {
    try {
      Files.delete(dir.resolve(file));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static void editConfig(Path dir, Consumer<ObjectNode> edit) {
    try {
      ObjectNode config =
          (ObjectNode) ModelFixtures.JSON.readTree(dir.resolve("config.json").toFile());
      edit.accept(config);
      ModelFixtures.JSON.writeValue(dir.resolve("config.json").toFile(), config);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Rewrites the shards with one tensor given another shape (null: left out). */
  private static void rewriteWithShape(Path dir, String tensor, long[] shape) {
    try {
      ObjectNode config =
          (ObjectNode) ModelFixtures.JSON.readTree(dir.resolve("config.json").toFile());
      Map<String, long[]> shapes = new LinkedHashMap<>();
      Map<String, float[]> values = new LinkedHashMap<>();
      try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
        new LlamaForCausalLm(ModelConfig.fromJson(config), manager, DataType.FLOAT32)
            .parameters()
            .forEach(
                (name, p) -> {
                  long[] s = name.equals(tensor) ? shape : p.getArray().getShape().getShape();
                  if (s != null) {
                    shapes.put(name, s);
                    values.put(
                        name,
                        new float[(int) java.util.Arrays.stream(s).reduce(1, (a, b) -> a * b)]);
                  }
                });
      }
      ModelFixtures.writeWeights(dir, shapes, values, WeightDType.BF16, 2);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}

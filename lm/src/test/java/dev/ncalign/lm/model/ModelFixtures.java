package dev.ncalign.lm.model;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Real-shape model directories for the I/O tests: the config.json fields Llama-3.2 and Qwen2.5
 * checkpoints carry (tiny width and depth), the word-level test tokenizer, random weights written
 * in a chosen dtype, as one file or as shards with an index.
 */
final class ModelFixtures {

  static final ObjectMapper JSON = new ObjectMapper();

  private ModelFixtures() {}

  /** Llama-3.2-style: llama3 rope_scaling, tied embeddings, head_dim 16, bfloat16, GQA. */
  static ObjectNode llama32Config(int vocab) throws IOException {
    return (ObjectNode)
        JSON.readTree(
            """
            {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
             "bos_token_id": 1, "eos_token_id": 2, "head_dim": 16, "hidden_act": "silu",
             "hidden_size": 64, "initializer_range": 0.02, "intermediate_size": 128,
             "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama",
             "num_attention_heads": 4, "num_hidden_layers": 2, "num_key_value_heads": 2,
             "pretraining_tp": 1, "rms_norm_eps": 1e-05,
             "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                              "original_max_position_embeddings": 8192, "rope_type": "llama3"},
             "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
             "transformers_version": "4.45.0.dev0", "use_cache": true, "vocab_size": %d}"""
                .formatted(vocab));
  }

  /** Qwen2.5-style: q/k/v biases, tied embeddings, no rope_scaling, float16 here. */
  static ObjectNode qwen25Config(int vocab) throws IOException {
    return (ObjectNode)
        JSON.readTree(
            """
            {"architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 1,
             "eos_token_id": 2, "hidden_act": "silu", "hidden_size": 64, "initializer_range": 0.02,
             "intermediate_size": 96, "max_position_embeddings": 32768, "max_window_layers": 2,
             "model_type": "qwen2", "num_attention_heads": 4, "num_hidden_layers": 2,
             "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_scaling": null,
             "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": true,
             "torch_dtype": "float16", "transformers_version": "4.43.1", "use_cache": true,
             "use_sliding_window": false, "vocab_size": %d}"""
                .formatted(vocab));
  }

  /**
   * A directory with {@code config} (vocab_size set to the test tokenizer's), the test tokenizer,
   * and random weights for every tensor the config implies, in {@code dtype}, split into {@code
   * shards} files (1 = a plain model.safetensors).
   *
   * @return the weights as written (before rounding to {@code dtype})
   */
  static Map<String, float[]> write(
      Path dir, ObjectNode config, WeightDType dtype, int shards, long seed) throws IOException {
    Path tokenizerSource = TestModels.tinyDir();
    Files.createDirectories(dir);
    Files.copy(
        tokenizerSource.resolve(HfModelDirectory.TOKENIZER),
        dir.resolve(HfModelDirectory.TOKENIZER));
    int vocab = ModelConfig.read(tokenizerSource.resolve(HfModelDirectory.CONFIG)).vocabSize();
    config.put("vocab_size", vocab);
    JSON.writeValue(dir.resolve(HfModelDirectory.CONFIG).toFile(), config);
    Map<String, long[]> shapes = new LinkedHashMap<>();
    try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
      new LlamaForCausalLm(ModelConfig.fromJson(config), manager, DataType.FLOAT32)
          .parameters()
          .forEach((name, p) -> shapes.put(name, p.getArray().getShape().getShape()));
    }
    Random random = new Random(seed);
    Map<String, float[]> values = new LinkedHashMap<>();
    shapes.forEach(
        (name, shape) -> {
          float[] v =
              new float[Math.toIntExact(java.util.Arrays.stream(shape).reduce(1, (a, b) -> a * b))];
          for (int i = 0; i < v.length; i++) {
            v[i] = (float) ((name.endsWith("norm.weight") ? 1 : 0) + random.nextGaussian() * 0.3);
          }
          values.put(name, v);
        });
    writeWeights(dir, shapes, values, dtype, shards);
    return values;
  }

  /** Writes the weights as one file or as {@code shards} files plus the index. */
  static void writeWeights(
      Path dir,
      Map<String, long[]> shapes,
      Map<String, float[]> values,
      WeightDType dtype,
      int shards)
      throws IOException {
    if (shards == 1) {
      writeFile(dir.resolve(HfModelDirectory.WEIGHTS), shapes, values, dtype);
      return;
    }
    List<String> names = new ArrayList<>(shapes.keySet());
    ObjectNode index = JSON.createObjectNode();
    index.putObject("metadata").put("total_size", 0);
    ObjectNode weightMap = index.putObject("weight_map");
    for (int s = 0; s < shards; s++) {
      String file = "model-%05d-of-%05d.safetensors".formatted(s + 1, shards);
      Map<String, long[]> part = new LinkedHashMap<>();
      for (int i = s; i < names.size(); i += shards) {
        part.put(names.get(i), shapes.get(names.get(i)));
        weightMap.put(names.get(i), file);
      }
      writeFile(dir.resolve(file), part, values, dtype);
    }
    JSON.writeValue(dir.resolve(HfModelDirectory.WEIGHTS_INDEX).toFile(), index);
  }

  private static void writeFile(
      Path file, Map<String, long[]> shapes, Map<String, float[]> values, WeightDType dtype) {
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file))) {
      SafetensorsWriter.writeValues(out, shapes, dtype, values::get);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code value} after a round trip through {@code dtype}. */
  static float rounded(float value, WeightDType dtype) {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    dtype.put(b, value);
    return dtype.get(b, 0);
  }

  /** Every weight of {@code actual} equals {@code expected}'s, bit for bit. */
  static void assertSameWeights(CausalLm expected, CausalLm actual) {
    expected
        .parameters()
        .forEach(
            (name, p) ->
                org.junit.jupiter.api.Assertions.assertArrayEquals(
                    p.getArray().toFloatArray(),
                    actual.parameters().get(name).getArray().toFloatArray(),
                    name));
  }
}

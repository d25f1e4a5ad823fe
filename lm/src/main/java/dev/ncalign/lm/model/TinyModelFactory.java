package dev.ncalign.lm.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Writes a tiny random Hugging Face model directory (config.json, model.safetensors,
 * tokenizer.json) for tests and demos. The tokenizer is word-level over the given vocabulary
 * (lower-cased, de-duplicated, after the special tokens); weights are N(0, 0.02²) like HF's
 * initializer_range, norms 1, biases 0; the same seed writes the same bytes.
 */
public final class TinyModelFactory {

  /** HF's default {@code initializer_range}. */
  private static final double INIT_STD = 0.02;

  private TinyModelFactory() {}

  /** Writes the model into {@code dir} (created if needed) and returns it. */
  public static Path write(Path dir, List<String> vocabulary, TinyModelSpec spec, long seed) {
    Set<String> tokens = new LinkedHashSet<>(WordLevelTokenizerJson.SPECIALS);
    vocabulary.forEach(word -> tokens.add(word.toLowerCase(Locale.ROOT)));
    List<String> vocab = new ArrayList<>(tokens);
    ModelConfig config =
        new ModelConfig(
            spec.qwen2() ? ModelConfig.QWEN2 : ModelConfig.LLAMA,
            vocab.size(),
            spec.hidden(),
            spec.intermediate(),
            spec.layers(),
            spec.heads(),
            spec.kvHeads(),
            spec.hidden() / spec.heads(),
            1e-6,
            10000.0,
            RopeScaling.NONE,
            spec.maxPositions(),
            spec.tieWordEmbeddings(),
            spec.qwen2(),
            false,
            WordLevelTokenizerJson.BOS,
            List.of(WordLevelTokenizerJson.EOS),
            WordLevelTokenizerJson.PAD);
    try {
      Files.createDirectories(dir);
      config.write(dir.resolve(HfModelDirectory.CONFIG));
      new ObjectMapper()
          .writerWithDefaultPrettyPrinter()
          .writeValue(
              dir.resolve(HfModelDirectory.TOKENIZER).toFile(),
              WordLevelTokenizerJson.build(vocab));
      try (NDManager manager = NDManager.newBaseManager(Device.cpu());
          OutputStream out =
              new BufferedOutputStream(
                  Files.newOutputStream(dir.resolve(HfModelDirectory.WEIGHTS)))) {
        Safetensors.write(
            out,
            randomWeights(
                new LlamaForCausalLm(config, manager, DataType.FLOAT32).parameters(), seed));
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write tiny model to " + dir, e);
    }
  }

  private static Map<String, Safetensors.Tensor> randomWeights(
      Map<String, Parameter> parameters, long seed) {
    Random random = new Random(seed);
    Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
    parameters.forEach(
        (name, parameter) -> {
          NDArray array = parameter.getArray();
          float[] values = new float[Math.toIntExact(array.size())];
          for (int i = 0; i < values.length; i++) {
            values[i] =
                name.endsWith("norm.weight")
                    ? 1f
                    : name.endsWith(".bias") ? 0f : (float) (random.nextGaussian() * INIT_STD);
          }
          tensors.put(name, new Safetensors.Tensor(array.getShape().getShape(), values));
        });
    return tensors;
  }
}

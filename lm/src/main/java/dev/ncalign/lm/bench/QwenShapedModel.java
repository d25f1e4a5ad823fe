package dev.ncalign.lm.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ncalign.lm.model.Safetensors;
import dev.ncalign.lm.model.SafetensorsFile;
import dev.ncalign.lm.model.SafetensorsWriter;
import dev.ncalign.lm.model.TinyModelFactory;
import dev.ncalign.lm.model.TinyModelSpec;
import dev.ncalign.lm.model.WeightDType;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A random model of the exact Qwen2.5-0.5B shape (494 M parameters: hidden 896, intermediate 4864,
 * 24 layers, 14 query heads sharing 2 kv heads, vocabulary 151 936, tied embeddings, q/k/v bias)
 * with BF16 weights on disk, written once into a cache directory. Its tokenizer is word-level
 * ({@code w0 w1 ...}) with exactly the vocabulary size, so prompts of n words are n + 1 tokens.
 */
public final class QwenShapedModel {

  /** Qwen2.5-0.5B's vocabulary (embedding rows). */
  public static final int VOCAB_SIZE = 151_936;

  /** Qwen2.5-0.5B's shape; context as in its config. */
  public static final TinyModelSpec SPEC =
      new TinyModelSpec(896, 24, 14, 2, 4864, 32_768, true, true);

  /** pad, bos, eos, unk come first in the word-level tokenizer. */
  private static final int SPECIAL_TOKENS = 4;

  private QwenShapedModel() {}

  /** The i-th ordinary word of the vocabulary. */
  public static String word(int i) {
    return "w" + i;
  }

  /** Returns {@code dir}, writing the model there first unless a previous run did. */
  public static Path ensure(Path dir) {
    if (Files.exists(dir.resolve("model.safetensors"))) {
      return dir;
    }
    Path staging = dir.resolveSibling(dir.getFileName() + ".partial");
    try {
      List<String> words = new ArrayList<>();
      for (int i = 0; i < VOCAB_SIZE - SPECIAL_TOKENS; i++) {
        words.add(word(i));
      }
      TinyModelFactory.write(staging, words, SPEC, 494);
      Path f32 = staging.resolve("model.safetensors");
      Path bf16 = staging.resolve("model.bf16.safetensors");
      toBf16(f32, bf16);
      Files.move(bf16, f32, StandardCopyOption.REPLACE_EXISTING);
      ObjectMapper json = new ObjectMapper();
      Path config = staging.resolve("config.json");
      ObjectNode fields = (ObjectNode) json.readTree(config.toFile());
      fields.put("torch_dtype", "bfloat16");
      json.writerWithDefaultPrettyPrinter().writeValue(config.toFile(), fields);
      Files.createDirectories(dir.getParent());
      Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the benchmark model to " + dir, e);
    }
  }

  /** Rewrites a float32 safetensors file as BF16, the dtype Qwen2.5 checkpoints ship in. */
  private static void toBf16(Path source, Path target) throws IOException {
    try (SafetensorsFile in = SafetensorsFile.open(source);
        OutputStream out = new BufferedOutputStream(Files.newOutputStream(target), 1 << 20)) {
      Map<String, long[]> shapes = new LinkedHashMap<>();
      in.header().forEach((name, info) -> shapes.put(name, info.shape()));
      SafetensorsWriter.writeValues(
          out,
          shapes,
          WeightDType.BF16,
          name -> {
            Safetensors.TensorInfo info = in.header().get(name);
            FloatBuffer values = Safetensors.toFloats(info, in.read(info));
            float[] floats = new float[values.remaining()];
            values.get(floats);
            return floats;
          });
    }
  }
}

package dev.ncalign.lm.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ncalign.lm.model.TinyModelFactory;
import dev.ncalign.lm.model.TinyModelSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

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
      Bf16Safetensors.convert(f32, bf16);
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
}

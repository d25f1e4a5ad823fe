package dev.ncalign.lm.chat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ncalign.lm.model.TestModels;
import dev.ncalign.lm.model.TinyModelFactory;
import dev.ncalign.lm.model.TinyModelSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * A tiny random model that speaks Qwen3's chat format: the real Qwen3 tokenizer and chat template
 * (the committed {@code qwen3-tokenizer/} fixture) over random weights with Qwen3's vocabulary size
 * (151 936) and width 8, so the embedding is ~5 MB of F32. Its eos is {@code <|im_end|>}, as for
 * Qwen3 chat models.
 */
public final class ChatTestModels {

  /** Qwen3's vocabulary size (config.json {@code vocab_size}); every tokenizer id is below it. */
  public static final int QWEN3_VOCAB = 151_936;

  public static final int IM_END = 151_645;
  public static final int END_OF_TEXT = 151_643;

  private static Path qwenDir;

  private ChatTestModels() {}

  /** The model directory, written once per JVM. */
  public static synchronized Path qwenChatDir() {
    if (qwenDir == null) {
      qwenDir = writeQwenChatDir(TestModels.tempDir("tiny-qwen-chat"));
    }
    return qwenDir;
  }

  private static Path writeQwenChatDir(Path dir) {
    // The factory sizes the embedding by its vocabulary (specials + words); the words are
    // placeholders whose tokenizer.json is then replaced by Qwen's.
    List<String> words = new ArrayList<>();
    for (int i = 0; words.size() + 4 < QWEN3_VOCAB; i++) {
      words.add("w" + i);
    }
    TinyModelFactory.write(dir, words, new TinyModelSpec(8, 1, 2, 1, 16, 512, true, true), 7);
    try {
      copyQwenTokenizer(dir);
      ObjectMapper json = new ObjectMapper();
      ObjectNode config = (ObjectNode) json.readTree(dir.resolve("config.json").toFile());
      config.remove("bos_token_id");
      config.put("eos_token_id", IM_END);
      config.put("pad_token_id", END_OF_TEXT);
      json.writeValue(dir.resolve("config.json").toFile(), config);
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the tiny Qwen chat model to " + dir, e);
    }
  }

  /**
   * Puts Qwen3's {@code tokenizer.json} (gunzipped) and {@code tokenizer_config.json} (with its
   * chat template) into {@code dir}, replacing any there.
   */
  public static void copyQwenTokenizer(Path dir) throws IOException {
    try (InputStream in = new GZIPInputStream(resource("qwen3-tokenizer/tokenizer.json.gz"))) {
      Files.copy(in, dir.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
    }
    try (InputStream in = resource("qwen3-tokenizer/tokenizer_config.json")) {
      Files.copy(in, dir.resolve("tokenizer_config.json"), StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** A test resource of the lm module (also on the classpath of modules using its test-jar). */
  public static InputStream resource(String path) {
    InputStream in = ChatTestModels.class.getClassLoader().getResourceAsStream(path);
    if (in == null) {
      throw new IllegalStateException("missing test resource " + path);
    }
    return in;
  }
}

package dev.ncalign.lm.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ncalign.lm.model.ModelConfig;
import dev.ncalign.lm.model.TestModels;
import dev.ncalign.lm.model.TextCodec;
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

  /**
   * Qwen3's tokenizer as a codec, from a directory {@link #copyQwenTokenizer} filled. Only the ids
   * matter to a codec; the sizes in its config are Qwen3-0.6B's.
   */
  public static TextCodec qwenCodec(Path dir) throws IOException {
    ModelConfig config =
        ModelConfig.fromJson(
            new ObjectMapper()
                .readTree(
                    """
                {"architectures": ["Qwen2ForCausalLM"], "vocab_size": 151936, "hidden_size": 1024,
                 "intermediate_size": 3072, "num_hidden_layers": 2, "num_attention_heads": 16,
                 "num_key_value_heads": 8, "head_dim": 128, "max_position_embeddings": 40960,
                 "eos_token_id": 151645, "pad_token_id": 151643}
                """));
    return TextCodec.load(dir.resolve("tokenizer.json"), config);
  }

  /** The cases of the Qwen3 golden renderings ({@code chat/goldens/qwen3.json}). */
  public static JsonNode qwenGoldens() {
    try (InputStream in = resource("chat/goldens/qwen3.json")) {
      return new ObjectMapper().readTree(in).path("cases");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A golden case's {@code messages}. */
  public static List<ChatMessage> messages(JsonNode golden) {
    List<ChatMessage> messages = new ArrayList<>();
    golden
        .path("messages")
        .forEach(
            m ->
                messages.add(new ChatMessage(m.path("role").asText(), m.path("content").asText())));
    return messages;
  }

  /** A golden case's {@code token_ids}: the ids transformers.js gives its rendered prompt. */
  public static int[] goldenIds(JsonNode golden) {
    int[] ids = new int[golden.path("token_ids").size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = golden.path("token_ids").get(i).asInt();
    }
    return ids;
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

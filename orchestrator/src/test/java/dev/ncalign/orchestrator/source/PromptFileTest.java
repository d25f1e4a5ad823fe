package dev.ncalign.orchestrator.source;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ncalign.lm.chat.ChatMessage;
import dev.ncalign.lm.chat.ChatPromptEncoder;
import dev.ncalign.lm.chat.ChatTestModels;
import dev.ncalign.lm.model.TextCodec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Prompt rows of both kinds, with and without {@code prompts.chat}, on Qwen3's real tokenizer and
 * chat template: a conversation's text is its rendering and its ids are the golden ids.
 */
class PromptFileTest {

  @TempDir static Path qwen;
  @TempDir Path dir;

  private static ChatPromptEncoder encoder;

  @BeforeAll
  static void loadTemplate() throws IOException {
    ChatTestModels.copyQwenTokenizer(qwen);
    encoder = ChatPromptEncoder.load(qwen);
  }

  @AfterAll
  static void close() {
    encoder.close();
  }

  @Test
  void chatRowsRenderAndTokenizeLikeTheGolden() throws IOException {
    JsonNode system = ChatTestModels.qwenGoldens().get(0);
    Path file =
        write(
            "{\"messages\": " + system.path("messages") + "}\n\n{\"prompt\": \"What is 2+2?\"}\n");

    List<Prompt> prompts = PromptFile.read(file, Optional.of(encoder));

    assertEquals(2, prompts.size());
    assertEquals(system.path("prompt").asText(), prompts.get(0).text());
    assertTrue(prompts.get(0).isChat());
    try (TextCodec codec = ChatTestModels.qwenCodec(qwen)) {
      assertArrayEquals(ChatTestModels.goldenIds(system), prompts.get(0).ids(codec));
    }
    // A plain row under chat: true is one user message.
    assertEquals(List.of(ChatMessage.user("What is 2+2?")), prompts.get(1).messages());
    assertEquals(
        "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n", prompts.get(1).text());
    assertEquals("user", prompts.get(1).conversation().getMessages(0).getRole());
  }

  @Test
  void withoutChatPromptRowsStayPlainAndMessageRowsAreRefused() throws IOException {
    List<Prompt> plain = PromptFile.read(write("{\"prompt\": \"hello\"}\n"), Optional.empty());
    assertEquals(List.of(Prompt.plain("hello")), plain);
    assertFalse(plain.get(0).isChat());

    Path chatFile =
        write("{\"prompt\": \"a\"}\n{\"messages\": [{\"role\": \"user\", \"content\": \"b\"}]}\n");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> PromptFile.read(chatFile, Optional.empty()));
    assertEquals(chatFile + ":2: a \"messages\" row needs prompts.chat: true", e.getMessage());
  }

  @Test
  void malformedRowsNameTheirLine() throws IOException {
    assertRefused("{\"prompt\": \"a\", \"messages\": []}", ":1: expected {\"prompt\"");
    assertRefused("{\"prompt\": 3}", ":1: expected {\"prompt\"");
    assertRefused("{\"messages\": []}", ":1: \"messages\" must be a non-empty array");
    assertRefused("{\"messages\": [{\"role\": \"user\"}]}", ":1: messages[0] must be");
    assertRefused("not json", ":1: ");
  }

  private void assertRefused(String row, String expected) throws IOException {
    Path file = write(row + "\n");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> PromptFile.read(file, Optional.of(encoder)));
    assertTrue(e.getMessage().startsWith(file + expected), e.getMessage());
  }

  private Path write(String text) throws IOException {
    Path file = Files.createTempFile(dir, "prompts", ".jsonl");
    Files.writeString(file, text);
    return file;
  }
}

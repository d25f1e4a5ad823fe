package dev.ncalign.orchestrator.source;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ncalign.lm.chat.ChatMessage;
import dev.ncalign.lm.chat.ChatPromptEncoder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads a prompts JSONL file. Each non-blank line is {@code {"prompt": "..."}} or {@code
 * {"messages": [{"role": "...", "content": "..."}, ...]}}. Without a chat encoder ({@code
 * prompts.chat: false}) only {@code prompt} rows are accepted; with one, a {@code prompt} row
 * becomes a conversation of one user message, and every conversation is rendered by the model's
 * template up front, so a conversation the template rejects fails here, naming its line, and not in
 * round 1.
 */
public final class PromptFile {

  private static final ObjectMapper JSON = new ObjectMapper();

  private PromptFile() {}

  /**
   * Every prompt of {@code file}, in order.
   *
   * @param chat the model's chat encoder when {@code prompts.chat} is true, else empty
   * @throws IllegalArgumentException naming {@code file:line} for a malformed row
   */
  public static List<Prompt> read(Path file, Optional<ChatPromptEncoder> chat) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read prompts from " + file, e);
    }
    List<Prompt> prompts = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      if (!lines.get(i).isBlank()) {
        String where = file + ":" + (i + 1) + ": ";
        try {
          prompts.add(row(JSON.readTree(lines.get(i)), chat));
        } catch (IOException | IllegalArgumentException e) {
          throw new IllegalArgumentException(where + e.getMessage(), e);
        }
      }
    }
    return prompts;
  }

  private static Prompt row(JsonNode node, Optional<ChatPromptEncoder> chat) {
    JsonNode prompt = node.path("prompt");
    JsonNode messages = node.path("messages");
    if (prompt.isMissingNode() == messages.isMissingNode()
        || !(prompt.isMissingNode() || prompt.isTextual())) {
      throw new IllegalArgumentException(
          "expected {\"prompt\": \"...\"} or {\"messages\": [{\"role\": ..., \"content\": ...}]}");
    }
    if (chat.isEmpty()) {
      if (!prompt.isTextual()) {
        throw new IllegalArgumentException("a \"messages\" row needs prompts.chat: true");
      }
      return Prompt.plain(prompt.asText());
    }
    List<ChatMessage> conversation =
        prompt.isTextual() ? List.of(ChatMessage.user(prompt.asText())) : messages(messages);
    return Prompt.chat(conversation, chat.get());
  }

  private static List<ChatMessage> messages(JsonNode array) {
    if (!array.isArray() || array.isEmpty()) {
      throw new IllegalArgumentException("\"messages\" must be a non-empty array");
    }
    List<ChatMessage> out = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      JsonNode m = array.get(i);
      if (!m.path("role").isTextual() || !m.path("content").isTextual()) {
        throw new IllegalArgumentException(
            "messages[" + i + "] must be {\"role\": \"...\", \"content\": \"...\"}");
      }
      out.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
    }
    return out;
  }
}

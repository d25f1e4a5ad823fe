package dev.ncalign.lm.chat;

import java.util.Objects;

/**
 * One turn of a conversation as chat templates see it: {@code {"role": ..., "content": ...}}. Roles
 * are free strings ({@code system}, {@code user}, {@code assistant}, ...): which ones a model
 * accepts is the template's business, and a template that refuses one says so through {@link
 * ChatTemplate#render}.
 */
public record ChatMessage(String role, String content) {

  public ChatMessage {
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(content, "content");
  }

  public static ChatMessage system(String content) {
    return new ChatMessage("system", content);
  }

  public static ChatMessage user(String content) {
    return new ChatMessage("user", content);
  }

  public static ChatMessage assistant(String content) {
    return new ChatMessage("assistant", content);
  }
}

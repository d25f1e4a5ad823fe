package dev.ncalign.orchestrator.source;

import dev.ncalign.lm.chat.ChatMessage;
import dev.ncalign.lm.chat.ChatPromptEncoder;
import dev.ncalign.lm.model.TextCodec;
import dev.ncalign.proto.v1.Conversation;
import java.util.List;
import java.util.Objects;

/**
 * One prompt of a run: plain text, or a conversation (with {@code prompts.chat: true}). A
 * conversation's {@link #text} is its chat-template rendering, the exact text the policy reads
 * (special tokens written out, ending with the assistant header): that is what samples, metrics and
 * the reward model see as "the prompt", and what the learner tokenizes.
 *
 * @param text the plain prompt, or the rendered conversation
 * @param messages the conversation; empty for a plain prompt
 */
public record Prompt(String text, List<ChatMessage> messages) {

  public Prompt {
    Objects.requireNonNull(text, "text");
    messages = List.copyOf(messages);
  }

  /** A plain-text prompt. */
  public static Prompt plain(String text) {
    return new Prompt(text, List.of());
  }

  /**
   * A conversation, rendered by the model's chat template.
   *
   * @throws IllegalArgumentException if the model has no template or it rejects the conversation
   */
  public static Prompt chat(List<ChatMessage> messages, ChatPromptEncoder encoder) {
    return new Prompt(encoder.render(messages), messages);
  }

  /** Whether this is a conversation (sent to the policy as GenerateRequest.conversations). */
  public boolean isChat() {
    return !messages.isEmpty();
  }

  /**
   * The prompt ids the policy server conditions on: a plain prompt with the tokenizer's special
   * tokens, a rendered conversation without adding any (as the server does).
   */
  public int[] ids(TextCodec codec) {
    return isChat() ? codec.encodeChatPrompt(text) : codec.encodePrompt(text);
  }

  /** The conversation as the policy API takes it. */
  public Conversation conversation() {
    Conversation.Builder c = Conversation.newBuilder();
    for (ChatMessage m : messages) {
      c.addMessagesBuilder().setRole(m.role()).setContent(m.content());
    }
    return c.build();
  }
}

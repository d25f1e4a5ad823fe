package dev.ncalign.lm.chat;

import dev.ncalign.lm.model.TextCodec;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Conversations to the prompt ids a model reads: rendered with the model's chat template ({@link
 * ChatTemplate#render}, add_generation_prompt=True) and tokenized without adding special tokens
 * ({@link TextCodec#encodeChatPrompt}). The policy server and the orchestrator's learner both go
 * through this one class, so the ids a completion was sampled after are the ids it is scored after.
 * A model may have no template; then every conversation is refused with one message.
 */
public final class ChatPromptEncoder implements AutoCloseable {

  private final Optional<ChatTemplate> template;
  private final String model;

  /**
   * An encoder with {@code template} (empty: the model has none); {@code model} names the model in
   * errors.
   */
  public ChatPromptEncoder(Optional<ChatTemplate> template, String model) {
    this.template = template;
    this.model = model;
  }

  /**
   * The chat template of a model directory, loaded once (the first template of a JVM costs seconds
   * of CPU).
   *
   * @throws IllegalArgumentException if the directory holds a malformed template
   */
  public static ChatPromptEncoder load(Path modelDir) {
    return new ChatPromptEncoder(ChatTemplate.load(modelDir), modelDir.toString());
  }

  /** Whether the model has a chat template, i.e. whether {@link #encode} can succeed. */
  public boolean available() {
    return template.isPresent();
  }

  /**
   * The prompt text for the next assistant turn, special tokens included as text.
   *
   * @throws IllegalArgumentException if the model has no chat template, or the template rejects the
   *     conversation (the message says why)
   */
  public String render(List<ChatMessage> messages) {
    if (messages.isEmpty()) {
      throw new IllegalArgumentException("a conversation needs at least one message");
    }
    return template
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    model
                        + " has no chat template (chat_template.jinja or tokenizer_config.json"
                        + " chat_template); send plain-text prompts"))
        .render(messages);
  }

  /**
   * Prompt ids of a conversation under {@code codec} (the model's tokenizer).
   *
   * @throws IllegalArgumentException as {@link #render}
   */
  public int[] encode(TextCodec codec, List<ChatMessage> messages) {
    return codec.encodeChatPrompt(render(messages));
  }

  @Override
  public void close() {
    template.ifPresent(ChatTemplate::close);
  }
}

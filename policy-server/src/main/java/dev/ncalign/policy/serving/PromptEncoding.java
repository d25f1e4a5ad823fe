package dev.ncalign.policy.serving;

import dev.ncalign.lm.chat.ChatMessage;
import dev.ncalign.lm.chat.ChatPromptEncoder;
import dev.ncalign.lm.model.TextCodec;
import dev.ncalign.proto.v1.Conversation;
import dev.ncalign.proto.v1.GenerateRequest;
import dev.ncalign.proto.v1.LogprobsItem;
import dev.ncalign.serving.InvalidRequestException;
import java.util.ArrayList;
import java.util.List;

/**
 * The prompt ids of a request, one path for Generate and ComputeLogprobs so a completion's
 * token_logprobs equal ComputeLogprobs of its prompt: a plain prompt is encoded with the
 * tokenizer's special-token rules, a conversation is rendered by the model's chat template and
 * encoded without adding any ({@link ChatPromptEncoder}). A conversation the model cannot take (no
 * template, or one that rejects it) is an {@link InvalidRequestException} naming the field.
 */
final class PromptEncoding {

  private final ChatPromptEncoder chat;

  PromptEncoding(ChatPromptEncoder chat) {
    this.chat = chat;
  }

  /** Whether conversations are accepted (the model has a chat template). */
  boolean chatTemplate() {
    return chat.available();
  }

  /** The ids of GenerateRequest.prompts, or of its conversations when those are set. */
  List<int[]> generatePrompts(GenerateRequest request, TextCodec codec) {
    List<int[]> ids = new ArrayList<>();
    for (int i = 0; i < request.getPromptsCount(); i++) {
      ids.add(codec.encodePrompt(request.getPrompts(i)));
    }
    for (int i = 0; i < request.getConversationsCount(); i++) {
      ids.add(conversation("conversations[" + i + "]", request.getConversations(i), codec));
    }
    return ids;
  }

  /** The prompt ids of ComputeLogprobs item {@code index}: its conversation if set, else prompt. */
  int[] logprobsPrompt(LogprobsItem item, int index, TextCodec codec) {
    return item.hasConversation()
        ? conversation("items[" + index + "].conversation", item.getConversation(), codec)
        : codec.encodePrompt(item.getPrompt());
  }

  /** Name of the prompt {@code index} of a Generate request in errors. */
  static String generateField(GenerateRequest request, int index) {
    return (request.getConversationsCount() > 0 ? "conversations[" : "prompts[") + index + "]";
  }

  private int[] conversation(String field, Conversation conversation, TextCodec codec) {
    List<ChatMessage> messages = new ArrayList<>();
    conversation
        .getMessagesList()
        .forEach(m -> messages.add(new ChatMessage(m.getRole(), m.getContent())));
    try {
      return chat.encode(codec, messages);
    } catch (IllegalArgumentException e) {
      throw new InvalidRequestException(field, e.getMessage());
    }
  }
}

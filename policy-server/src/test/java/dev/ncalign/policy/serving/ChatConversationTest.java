package dev.ncalign.policy.serving;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ncalign.lm.chat.ChatPromptEncoder;
import dev.ncalign.lm.chat.ChatTestModels;
import dev.ncalign.lm.model.TestModels;
import dev.ncalign.proto.v1.ChatMessage;
import dev.ncalign.proto.v1.Completion;
import dev.ncalign.proto.v1.Conversation;
import dev.ncalign.proto.v1.GenerateRequest;
import dev.ncalign.proto.v1.GenerateResponse;
import dev.ncalign.proto.v1.GetInfoRequest;
import dev.ncalign.proto.v1.LogprobsItem;
import dev.ncalign.proto.v1.LogprobsRequest;
import dev.ncalign.proto.v1.LogprobsResponse;
import dev.ncalign.proto.v1.PolicyServiceGrpc;
import dev.ncalign.proto.v1.SamplingParams;
import dev.ncalign.proto.v1.SequenceLogprobs;
import dev.ncalign.serving.TextLimit;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Conversations end to end on a tiny random model with Qwen3's real tokenizer and chat template
 * ({@link ChatTestModels}): the prompt ids are the golden ids transformers.js gives, Generate and
 * ComputeLogprobs read the same ids, and what a model cannot take is INVALID_ARGUMENT.
 */
class ChatConversationTest {

  private static final int MAX_CHARS = 500;
  private static PolicyServer chat;
  private static PolicyServer plain;
  private static ManagedChannel chatChannel;
  private static ManagedChannel plainChannel;
  private static PolicyServiceGrpc.PolicyServiceBlockingStub stub;
  private static JsonNode goldens;

  @BeforeAll
  static void start() {
    PolicyLimits limits = new PolicyLimits(4, 4, 8, 1 << 24, new TextLimit(MAX_CHARS));
    chat =
        PolicyServer.start(
            PolicyServerOptions.defaults(ChatTestModels.qwenChatDir()).withLimits(limits));
    plain = PolicyServer.start(PolicyServerOptions.defaults(TestModels.tinyDir()));
    chatChannel = ServingFixtures.channel(chat.port());
    plainChannel = ServingFixtures.channel(plain.port());
    stub = PolicyServiceGrpc.newBlockingStub(chatChannel).withDeadlineAfter(120, TimeUnit.SECONDS);
    goldens = ChatTestModels.qwenGoldens();
  }

  @AfterAll
  static void stop() throws InterruptedException {
    chatChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    plainChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    chat.close();
    plain.close();
  }

  @Test
  void getInfoSaysWhetherTheModelHasAChatTemplate() {
    assertTrue(stub.getInfo(GetInfoRequest.getDefaultInstance()).getChatTemplate());
    assertFalse(
        PolicyServiceGrpc.newBlockingStub(plainChannel)
            .getInfo(GetInfoRequest.getDefaultInstance())
            .getChatTemplate());
  }

  @Test
  void conversationPromptIdsAreTheGoldenIds() {
    GenerateRequest.Builder request = GenerateRequest.newBuilder().setNumSamples(1);
    goldens.forEach(g -> request.addConversations(conversation(g.path("messages"))));
    List<int[]> ids;
    // The server's own encoding path, on the codec of the model it serves.
    try (ChatPromptEncoder encoder = ChatPromptEncoder.load(ChatTestModels.qwenChatDir());
        PolicyLease lease = chat.registry().acquire()) {
      ids = new PromptEncoding(encoder).generatePrompts(request.build(), lease.model().codec());
    }
    assertEquals(goldens.size(), ids.size());
    for (int i = 0; i < ids.size(); i++) {
      assertArrayEquals(
          ChatTestModels.goldenIds(goldens.get(i)),
          ids.get(i),
          goldens.get(i).path("name").asText());
    }
    // Over gRPC: a conversation scores like its golden rendering sent as a plain prompt (Qwen's
    // tokenizer adds no special tokens to a plain prompt, so both read the golden ids).
    for (JsonNode golden : goldens) {
      double viaConversation = logprob(conversationItem(golden.path("messages"), " Paris"));
      double viaText =
          logprob(
              LogprobsItem.newBuilder()
                  .setPrompt(golden.path("prompt").asText())
                  .setResponse(" Paris")
                  .build());
      assertEquals(viaText, viaConversation, 1e-5, golden.path("name").asText());
    }
  }

  @Test
  void generatedCompletionsScoreTheSameUnderComputeLogprobs() {
    List<Conversation> conversations = new ArrayList<>();
    conversations.add(conversation(goldens.get(0).path("messages")));
    conversations.add(conversation(goldens.get(1).path("messages")));
    GenerateResponse generated =
        stub.generate(
            GenerateRequest.newBuilder()
                .addAllConversations(conversations)
                .setNumSamples(4)
                .setSampling(SamplingParams.newBuilder().setMaxNewTokens(2).setSeed(11))
                .build());
    assertEquals(8, generated.getCompletionsCount());

    LogprobsRequest.Builder request = LogprobsRequest.newBuilder();
    for (Completion c : generated.getCompletionsList()) {
      request.addItems(
          LogprobsItem.newBuilder()
              .setConversation(conversations.get(c.getPromptIndex()))
              .setResponse(c.getText()));
    }
    LogprobsResponse scored = stub.computeLogprobs(request.build());
    int compared = 0;
    for (int i = 0; i < generated.getCompletionsCount(); i++) {
      Completion c = generated.getCompletions(i);
      SequenceLogprobs s = scored.getResults(i);
      // Random weights sample arbitrary byte-level tokens; only a text that re-encodes to the
      // sampled ids can be compared id by id (eos, a special token, is dropped from the text).
      if (s.getTokenIdsList().equals(c.getTokenIdsList())) {
        for (int t = 0; t < c.getTokenIdsCount(); t++) {
          assertEquals(c.getTokenLogprobs(t), s.getTokenLogprobs(t), 1e-4, "completion " + i);
        }
        compared++;
      }
    }
    assertTrue(compared >= 4, compared + " of 8 completions re-encode to their ids");
  }

  @Test
  void aConversationIsNotThePlainTextOfItsLastMessage() {
    JsonNode single = goldens.get(3);
    String content = single.path("messages").get(0).path("content").asText();
    double asChat = logprob(conversationItem(single.path("messages"), " yes"));
    double asText =
        logprob(LogprobsItem.newBuilder().setPrompt(content).setResponse(" yes").build());
    assertNotEquals(asText, asChat, 1e-6);
  }

  @Test
  void promptsAndConversationsTogetherAreInvalid() {
    Conversation one = conversation(goldens.get(0).path("messages"));
    assertInvalid(
        "prompts",
        () ->
            stub.generate(
                GenerateRequest.newBuilder()
                    .addPrompts("hello")
                    .addConversations(one)
                    .setNumSamples(1)
                    .build()));
    assertInvalid(
        "prompts", () -> stub.generate(GenerateRequest.newBuilder().setNumSamples(1).build()));
    assertInvalid(
        "items[0]",
        () ->
            stub.computeLogprobs(
                LogprobsRequest.newBuilder()
                    .addItems(
                        LogprobsItem.newBuilder()
                            .setPrompt("x")
                            .setConversation(one)
                            .setResponse("y"))
                    .build()));
  }

  @Test
  void malformedConversationsAreInvalid() {
    assertInvalid(
        "conversations[1]",
        () ->
            stub.generate(
                GenerateRequest.newBuilder()
                    .addConversations(conversation(goldens.get(0).path("messages")))
                    .addConversations(Conversation.getDefaultInstance())
                    .setNumSamples(1)
                    .build()));
    Conversation tooLong =
        Conversation.newBuilder()
            .addMessages(ChatMessage.newBuilder().setRole("system").setContent("be brief"))
            .addMessages(
                ChatMessage.newBuilder().setRole("user").setContent("x".repeat(MAX_CHARS + 1)))
            .build();
    assertInvalid(
        "conversations[0].messages[1].content",
        () ->
            stub.generate(
                GenerateRequest.newBuilder().addConversations(tooLong).setNumSamples(1).build()));
    assertInvalid(
        "items[0].conversation.messages[1].content",
        () ->
            stub.computeLogprobs(
                LogprobsRequest.newBuilder()
                    .addItems(LogprobsItem.newBuilder().setConversation(tooLong).setResponse("y"))
                    .build()));
  }

  @Test
  void aModelWithoutTemplateRefusesConversations() {
    PolicyServiceGrpc.PolicyServiceBlockingStub plainStub =
        PolicyServiceGrpc.newBlockingStub(plainChannel).withDeadlineAfter(60, TimeUnit.SECONDS);
    Conversation hello =
        Conversation.newBuilder()
            .addMessages(ChatMessage.newBuilder().setRole("user").setContent("hello"))
            .build();
    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                plainStub.generate(
                    GenerateRequest.newBuilder().addConversations(hello).setNumSamples(1).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertTrue(
        e.getStatus().getDescription().startsWith("conversations[0]: ")
            && e.getStatus().getDescription().contains("has no chat template"),
        e.getStatus().getDescription());
    assertInvalid(
        "items[0].conversation",
        () ->
            plainStub.computeLogprobs(
                LogprobsRequest.newBuilder()
                    .addItems(LogprobsItem.newBuilder().setConversation(hello).setResponse("cat"))
                    .build()));
  }

  private static double logprob(LogprobsItem item) {
    SequenceLogprobs s =
        stub.computeLogprobs(LogprobsRequest.newBuilder().addItems(item).build()).getResults(0);
    assertTrue(s.getTokenIdsCount() > 0);
    return s.getSumLogprob();
  }

  private static LogprobsItem conversationItem(JsonNode messages, String response) {
    return LogprobsItem.newBuilder()
        .setConversation(conversation(messages))
        .setResponse(response)
        .build();
  }

  private static Conversation conversation(JsonNode messages) {
    Conversation.Builder c = Conversation.newBuilder();
    messages.forEach(
        m ->
            c.addMessages(
                ChatMessage.newBuilder()
                    .setRole(m.path("role").asText())
                    .setContent(m.path("content").asText())));
    return c.build();
  }

  private static void assertInvalid(String field, Runnable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
    assertTrue(
        e.getStatus().getDescription().startsWith(field + ": "), e.getStatus().getDescription());
  }
}

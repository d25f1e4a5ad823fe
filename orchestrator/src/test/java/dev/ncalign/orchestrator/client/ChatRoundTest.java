package dev.ncalign.orchestrator.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import dev.ncalign.lm.chat.ChatPromptEncoder;
import dev.ncalign.lm.chat.ChatTestModels;
import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.orchestrator.config.Mode;
import dev.ncalign.orchestrator.config.RunConfig;
import dev.ncalign.orchestrator.loop.AlignmentLoop;
import dev.ncalign.orchestrator.loop.LoopSettings;
import dev.ncalign.orchestrator.source.HeldOutEvaluator;
import dev.ncalign.orchestrator.source.OnlineSampler;
import dev.ncalign.orchestrator.source.OnlineSource;
import dev.ncalign.orchestrator.source.Prompt;
import dev.ncalign.orchestrator.source.PromptSet;
import dev.ncalign.orchestrator.store.RoundMetrics;
import dev.ncalign.orchestrator.store.RunStore;
import dev.ncalign.orchestrator.store.SampleRecord;
import dev.ncalign.orchestrator.train.Learner;
import dev.ncalign.proto.v1.Conversation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code prompts.chat: true} for one online round: a messages JSONL is rendered with the policy
 * model's template (Qwen3's, on a tiny random model), sent to the replicas as conversations, and
 * the learner trains on the golden prompt ids; samples keep the rendered prompt. A replica without
 * a chat template is refused before round 1, by name.
 */
class ChatRoundTest {
  private final LoopbackServers servers = new LoopbackServers();
  @TempDir Path dir;

  @AfterEach
  void stop() {
    servers.close();
  }

  @Test
  void oneChatRoundSendsConversationsAndTrainsOnTheTemplatesIds() throws Exception {
    JsonNode goldens = ChatTestModels.qwenGoldens();
    JsonNode first = goldens.get(0);
    JsonNode second = goldens.get(1);
    Path prompts =
        Files.writeString(
            dir.resolve("prompts.jsonl"),
            "{\"messages\": "
                + first.path("messages")
                + "}\n{\"messages\": "
                + second.path("messages")
                + "}\n");
    FakePolicy fake = new FakePolicy("a", 0);
    fake.sampleTokens = true;
    fake.chatTemplate = true;
    Path model = ChatTestModels.qwenChatDir();
    try (ChatPromptEncoder encoder = ChatPromptEncoder.load(model);
        PolicyClient policyClient =
            new PolicyClient(List.of(servers.start(fake)), PolicyClientTest.FAST);
        RewardClient rewardClient =
            new RewardClient(List.of(servers.start(new FakeReward(0))), PolicyClientTest.FAST);
        CausalLm policy = CausalLm.load(model, Device.cpu());
        CausalLm reference = CausalLm.load(model, Device.cpu());
        Learner learner = RoundRecordTest.ncaLearner(policy, reference)) {
      policyClient.requireChatTemplate();
      PromptSet set = PromptSet.load(prompts, Optional.of(encoder));
      OnlineSampler sampler =
          new OnlineSampler(
              policyClient,
              rewardClient,
              policy.codec(),
              new RunConfig.Sampling(2, 2, 8, 1.0, 1.0, 0));
      AlignmentLoop loop =
          new AlignmentLoop(
              Mode.ONLINE,
              new OnlineSource(sampler, set, 2, 3),
              learner,
              policy,
              WeightPublisher.at(policyClient, policy::writeSafetensors, 1),
              new HeldOutEvaluator(sampler, set, 1),
              RunStore.open(dir.resolve("run")),
              new LoopSettings(1, 1, 0, 0, 3, 0),
              List.of());
      RoundMetrics row = loop.runRound(1);

      // The replica got conversations, not prompt text.
      List<Conversation> sent = fake.conversations.get(0);
      assertEquals(2, sent.size());
      assertEquals(List.of(), fake.generated.get(0));
      assertEquals(1, row.optimizerSteps());
      assertEquals(2, fake.version);

      // Samples keep the rendered prompt: the text the policy read.
      List<SampleRecord> samples = RunStore.open(dir.resolve("run")).samples();
      assertEquals(4, samples.size());
      for (SampleRecord s : samples) {
        assertTrue(
            s.prompt().equals(first.path("prompt").asText())
                || s.prompt().equals(second.path("prompt").asText()),
            s.prompt());
      }
      // The learner's prompt ids are the golden ids of each rendering.
      for (Prompt p : set.train()) {
        JsonNode golden = p.text().equals(first.path("prompt").asText()) ? first : second;
        assertArrayEquals(ChatTestModels.goldenIds(golden), p.ids(policy.codec()));
      }
    }
  }

  @Test
  void aReplicaWithoutChatTemplateIsRefusedByName() throws Exception {
    FakePolicy chat = new FakePolicy("chat", 0);
    chat.chatTemplate = true;
    FakePolicy plain = new FakePolicy("plain", 0);
    String plainTarget = servers.start(plain);
    try (PolicyClient client =
        new PolicyClient(List.of(servers.start(chat), plainTarget), PolicyClientTest.FAST)) {
      IllegalStateException e =
          assertThrows(IllegalStateException.class, client::requireChatTemplate);
      assertEquals(
          "policy replica "
              + plainTarget
              + " serves /fake/plain, which has no chat template: prompts.chat: true needs a chat"
              + " model",
          e.getMessage());
    }
  }
}

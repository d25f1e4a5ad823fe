package dev.ncalign.orchestrator.source;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ncalign.lm.model.ModelConfig;
import dev.ncalign.lm.model.TextCodec;
import dev.ncalign.lm.model.TinyModelFactory;
import dev.ncalign.lm.model.TinyModelSpec;
import dev.ncalign.orchestrator.train.Sample;
import dev.ncalign.orchestrator.train.ScoredPrompt;
import dev.ncalign.orchestrator.train.ScoredResponse;
import dev.ncalign.proto.v1.FinishReason;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Prompt sets, the offline dataset as a batch source, and response statistics. */
class BatchSourcesTest {
  @TempDir static Path tmp;
  static TextCodec codec;

  @BeforeAll
  static void tokenizer() {
    Path model =
        TinyModelFactory.write(
            tmp.resolve("model"),
            List.of("a", "b", "c", "good", "bad", "prompt", "."),
            TinyModelSpec.tiny(),
            1);
    codec =
        TextCodec.load(
            model.resolve("tokenizer.json"), ModelConfig.read(model.resolve("config.json")));
  }

  @AfterAll
  static void close() {
    codec.close();
  }

  @Test
  void everyFifthPromptIsHeldOutAndRoundsDependOnlyOnSeedAndRound() {
    List<String> prompts = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      prompts.add("p" + i);
    }
    PromptSet set = PromptSet.split(prompts);
    assertEquals(List.of("p4", "p9"), set.eval());
    assertEquals(8, set.train().size());
    assertEquals(
        set.forRound(7, 3, 8), set.forRound(7, 3, 8), "a resumed run draws the same prompts");
    assertEquals(
        new HashSet<>(set.train()),
        new HashSet<>(set.forRound(7, 3, 8)),
        "no repeats while they last");
    assertNotEquals(set.forRound(7, 3, 8), set.forRound(7, 4, 8));
    assertEquals(List.of("p4", "p9", "p4"), set.evalPrompts(3));
  }

  @Test
  void offlineRoundsWalkWholeShuffledPassesOverTheDataset() throws Exception {
    Path file = tmp.resolve("data.jsonl");
    List<ScoredPrompt> rows = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      rows.add(
          new ScoredPrompt(
              "prompt " + i,
              codec.encodePrompt("prompt"),
              List.of(
                  ScoredResponse.ending(codec, "good .", 1f),
                  ScoredResponse.ending(codec, "bad .", -1f + i))));
    }
    DatasetFile.write(file, rows);
    OfflineDataset dataset = OfflineDataset.load(file, codec, 4, 9);
    assertEquals(6, dataset.size());
    ScoredResponse first = dataset.prompts().get(0).responses().get(0);
    assertEquals(
        codec.eosId(), first.tokenIds()[first.tokenIds().length - 1], "responses end with eos");

    // Rounds 1-3 take 12 prompts: exactly two passes over the 6.
    List<String> seen = new ArrayList<>();
    for (int round = 1; round <= 3; round++) {
      dataset.next(round).batch().prompts().forEach(p -> seen.add(p.prompt()));
    }
    assertEquals(6, new HashSet<>(seen.subList(0, 6)).size(), "first pass holds every prompt once");
    assertEquals(6, new HashSet<>(seen.subList(6, 12)).size(), "second pass too");
    assertEquals(
        texts(dataset.next(2)),
        texts(OfflineDataset.load(file, codec, 4, 9).next(2)),
        "a round is a function of the seed and its number");
    assertNotEquals(texts(dataset.next(2)), texts(OfflineDataset.load(file, codec, 4, 10).next(2)));
  }

  private static List<String> texts(Rollout sourced) {
    return sourced.batch().prompts().stream().map(ScoredPrompt::prompt).toList();
  }

  @Test
  void collectedRowsRoundTripWithTheSamplersIdsAndNoEosOnTruncatedResponses() {
    Path file = tmp.resolve("collected.jsonl");
    int[] promptIds = codec.encodePrompt("prompt a");
    // As sampled: one response ended with eos, one was cut off at max_new_tokens (no eos).
    int[] stopped = {codec.encodeResponse("good")[0], codec.eosId()};
    int[] truncated = codec.encodeResponse("bad bad bad");
    ScoredResponse stop =
        new ScoredResponse(
            "good", stopped, 1f, new Sample(3, FinishReason.STOP, new float[] {-0.25f, -1.5f}));
    ScoredResponse cut =
        new ScoredResponse(
            "bad bad bad",
            truncated,
            Float.NaN,
            new Sample(3, FinishReason.LENGTH, new float[] {-1f, -2f, -3f}));
    DatasetFile.write(file, List.of(new ScoredPrompt("prompt a", promptIds, List.of(stop, cut))));

    ScoredPrompt read = DatasetFile.read(file, codec).get(0);
    assertArrayEquals(promptIds, read.promptIds());
    ScoredResponse readStop = read.responses().get(0);
    ScoredResponse readCut = read.responses().get(1);
    assertArrayEquals(stopped, readStop.tokenIds());
    assertArrayEquals(truncated, readCut.tokenIds(), "a truncated response gets no eos");
    assertEquals(FinishReason.LENGTH, readCut.sample().finishReason());
    assertEquals(FinishReason.STOP, readStop.sample().finishReason());
    assertEquals(3L, readCut.sampledVersion());
    assertArrayEquals(new float[] {-1f, -2f, -3f}, readCut.sample().tokenLogprobs());
    assertTrue(Float.isNaN(readCut.reward()), "a dropped reward stays dropped");
  }

  @Test
  void textOnlyRowsStillLoadWithEosAppended() throws Exception {
    Path file = tmp.resolve("text-only.jsonl");
    Files.writeString(
        file, "{\"prompt\": \"prompt\", \"responses\": [{\"text\": \"good .\", \"reward\": 1}]}\n");
    ScoredPrompt row = DatasetFile.read(file, codec).get(0);
    ScoredResponse response = row.responses().get(0);
    assertArrayEquals(codec.encodePrompt("prompt"), row.promptIds());
    int[] text = codec.encodeResponse("good .");
    assertEquals(text.length + 1, response.tokenIds().length);
    assertEquals(codec.eosId(), response.tokenIds()[text.length]);
    assertEquals(null, response.sample());
  }

  @Test
  void badIdsAndLogprobsNameTheLineAndField() throws Exception {
    String row = "{\"prompt\": \"p\", \"responses\": [{\"text\": \"good\", \"reward\": 1, %s}]}\n";
    List<String[]> cases =
        List.of(
            new String[] {"\"token_ids\": [1, -2]", "\"token_ids\"[1] must be a token id >= 0"},
            new String[] {"\"token_ids\": \"7\"", "\"token_ids\" must be an array"},
            new String[] {
              "\"token_ids\": [1, 2], \"sampled_version\": 2, \"finish_reason\": \"STOP\","
                  + " \"token_logprobs\": [-1]",
              "one value per token id (2), got 1"
            },
            new String[] {
              "\"token_ids\": [1], \"sampled_version\": 2, \"finish_reason\": \"DONE\","
                  + " \"token_logprobs\": [-1]",
              "\"finish_reason\" must be STOP, LENGTH or CANCELLED, got \"DONE\""
            });
    for (String[] c : cases) {
      Path file = tmp.resolve("bad-ids.jsonl");
      Files.writeString(file, "\n" + String.format(row, c[0]));
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> DatasetFile.read(file, codec));
      assertTrue(e.getMessage().contains("bad-ids.jsonl:2"), e.getMessage());
      assertTrue(e.getMessage().contains(c[1]), e.getMessage());
    }
  }

  @Test
  void malformedDatasetRowsNameTheLine() throws Exception {
    Path file = tmp.resolve("bad.jsonl");
    Files.writeString(
        file,
        "{\"prompt\": \"prompt\", \"responses\": [{\"text\": \"good\", \"reward\": 1}]}\n"
            + "{\"prompt\": \"prompt\", \"responses\": [{\"text\": \"good\"}]}\n");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> OfflineDataset.load(file, codec, 2, 1));
    assertTrue(e.getMessage().contains("bad.jsonl:2"), e.getMessage());
  }

  @Test
  void responseStatsCountLengthAndDistinctBigrams() {
    ResponseStats stats =
        ResponseStats.of(
            List.of(
                new ScoredResponse("", new int[] {1, 2, 3}, 0f),
                new ScoredResponse("", new int[] {1, 2, 1, 2}, 0f)));
    assertEquals(3.5, stats.meanLength(), 1e-9);
    // bigrams: (1,2) (2,3) | (1,2) (2,1) (1,2) -> 3 distinct of 5
    assertEquals(0.6, stats.distinct2(), 1e-9);
    assertEquals(new ResponseStats(0, 0), ResponseStats.of(List.of()));
  }
}

package dev.ncalign.orchestrator.loop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ncalign.lm.model.TextCodec;
import dev.ncalign.orchestrator.train.RewardBatch;
import dev.ncalign.orchestrator.train.ScoredPrompt;
import dev.ncalign.orchestrator.train.ScoredResponse;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * A fixed dataset of prompts with K scored responses, in UltraFeedback-style JSONL: {@code
 * {"prompt": "...", "responses": [{"text": "...", "reward": 0.7}, ...]}} (K may differ per prompt).
 *
 * <p>As a {@link BatchSource} it serves {@code promptsPerRound} prompts a round, epoch after epoch,
 * each epoch in a fresh order that depends only on the seed and the epoch. Responses are tokenized
 * without special tokens and end with the eos token (the TRL convention), so the policy also learns
 * where a good response stops.
 */
public final class OfflineDataset implements BatchSource {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<ScoredPrompt> prompts;
  private final int promptsPerRound;
  private final long seed;

  private OfflineDataset(List<ScoredPrompt> prompts, int promptsPerRound, long seed) {
    this.prompts = List.copyOf(prompts);
    this.promptsPerRound = promptsPerRound;
    this.seed = seed;
  }

  /**
   * Reads and tokenizes a dataset.
   *
   * @throws IllegalArgumentException naming the file and line of a malformed row
   */
  public static OfflineDataset load(Path file, TextCodec codec, int promptsPerRound, long seed) {
    List<ScoredPrompt> rows = new ArrayList<>();
    try {
      int line = 0;
      for (String text : Files.readAllLines(file)) {
        line++;
        if (!text.isBlank()) {
          rows.add(parse(JSON.readTree(text), codec, file + ":" + line));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read dataset " + file, e);
    }
    if (rows.isEmpty()) {
      throw new IllegalArgumentException("dataset " + file + " has no rows");
    }
    return new OfflineDataset(rows, promptsPerRound, seed);
  }

  private static ScoredPrompt parse(JsonNode row, TextCodec codec, String where) {
    if (!row.path("prompt").isTextual()
        || !row.path("responses").isArray()
        || row.get("responses").isEmpty()) {
      throw new IllegalArgumentException(
          where + ": expected {\"prompt\": text, \"responses\": [...]}");
    }
    List<ScoredResponse> responses = new ArrayList<>();
    for (JsonNode r : row.get("responses")) {
      if (!r.path("text").isTextual() || !r.path("reward").isNumber()) {
        throw new IllegalArgumentException(
            where + ": every response needs \"text\" and a numeric \"reward\"");
      }
      responses.add(
          ScoredResponse.ending(codec, r.get("text").asText(), (float) r.get("reward").asDouble()));
    }
    String prompt = row.get("prompt").asText();
    return new ScoredPrompt(prompt, codec.encodePrompt(prompt), responses);
  }

  /** Writes scored prompts as dataset rows (what {@code ncalign collect} produces). */
  public static void write(Path file, List<ScoredPrompt> rows) {
    try (BufferedWriter out = Files.newBufferedWriter(file)) {
      for (ScoredPrompt p : rows) {
        ObjectNode row = JSON.createObjectNode().put("prompt", p.prompt());
        ArrayNode responses = row.putArray("responses");
        for (ScoredResponse r : p.responses()) {
          responses.addObject().put("text", r.text()).put("reward", r.reward());
        }
        out.write(JSON.writeValueAsString(row));
        out.newLine();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write dataset " + file, e);
    }
  }

  /** Prompts in the dataset. */
  public int size() {
    return prompts.size();
  }

  /** Every row, in file order. */
  public List<ScoredPrompt> prompts() {
    return prompts;
  }

  @Override
  public SourcedBatch next(int round) {
    List<ScoredPrompt> batch = new ArrayList<>(promptsPerRound);
    int epoch = -1;
    List<Integer> order = List.of();
    for (long at = (long) (round - 1) * promptsPerRound; batch.size() < promptsPerRound; at++) {
      if (at / prompts.size() != epoch) {
        epoch = (int) (at / prompts.size());
        order = epochOrder(epoch);
      }
      batch.add(prompts.get(order.get((int) (at % prompts.size()))));
    }
    return new SourcedBatch(new RewardBatch(batch), 0, 0, 0, 0);
  }

  private List<Integer> epochOrder(int epoch) {
    List<Integer> order = new ArrayList<>(IntStream.range(0, prompts.size()).boxed().toList());
    Collections.shuffle(order, new Random(seed * 31L + epoch));
    return order;
  }
}

package dev.ncalign.orchestrator.source;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ncalign.lm.model.TextCodec;
import dev.ncalign.orchestrator.train.Sample;
import dev.ncalign.orchestrator.train.ScoredPrompt;
import dev.ncalign.orchestrator.train.ScoredResponse;
import dev.ncalign.proto.v1.FinishReason;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The offline dataset format, UltraFeedback-style JSONL, one prompt per line with K ≥ 1 scored
 * responses:
 *
 * <pre>{@code
 * {"prompt": "...", "prompt_token_ids": [...],
 *  "responses": [{"text": "...", "reward": 0.7, "token_ids": [...], "finish_reason": "LENGTH",
 *                 "sampled_version": 3, "token_logprobs": [...]}, ...]}
 * }</pre>
 *
 * <p>Only {@code prompt}, {@code text} and {@code reward} are required; a {@code null} reward (what
 * the reward server scored as non-finite) keeps the response but masks it out of the loss. Ids
 * given are trained on as they are ({@code ncalign collect} writes the sampler's, so a truncated
 * response stays without eos); a text-only response is tokenized and gets eos appended ({@link
 * ScoredResponse#ending}), a text-only prompt is tokenized with the policy's prompt rules.
 */
public final class DatasetFile {
  private static final ObjectMapper JSON = new ObjectMapper();

  private DatasetFile() {}

  /**
   * Every row of {@code file}, in file order.
   *
   * @throws IllegalArgumentException naming the file and line of a malformed row
   */
  public static List<ScoredPrompt> read(Path file, TextCodec codec) {
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
    return rows;
  }

  /** Writes scored prompts as dataset rows, ids and sampling records included. */
  public static void write(Path file, List<ScoredPrompt> rows) {
    try (BufferedWriter out = Files.newBufferedWriter(file)) {
      for (ScoredPrompt p : rows) {
        ObjectNode row = JSON.createObjectNode().put("prompt", p.prompt());
        ints(row.putArray("prompt_token_ids"), p.promptIds());
        ArrayNode responses = row.putArray("responses");
        for (ScoredResponse r : p.responses()) {
          ObjectNode response = responses.addObject().put("text", r.text());
          if (r.present()) {
            response.put("reward", r.reward());
          } else {
            response.putNull("reward"); // JSON has no NaN: the response stays, masked out
          }
          ints(response.putArray("token_ids"), r.tokenIds());
          if (r.sample() != null) {
            response.put("finish_reason", r.sample().finishReason().name());
            response.put("sampled_version", r.sample().version());
            ArrayNode logprobs = response.putArray("token_logprobs");
            for (float lp : r.sample().tokenLogprobs()) {
              logprobs.add(lp);
            }
          }
        }
        out.write(JSON.writeValueAsString(row));
        out.newLine();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write dataset " + file, e);
    }
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
      responses.add(response(r, codec, where));
    }
    String prompt = row.get("prompt").asText();
    int[] promptIds =
        row.has("prompt_token_ids")
            ? ids(row.get("prompt_token_ids"), where, "prompt_token_ids")
            : codec.encodePrompt(prompt);
    return new ScoredPrompt(prompt, promptIds, responses);
  }

  private static ScoredResponse response(JsonNode r, TextCodec codec, String where) {
    if (!r.path("text").isTextual()
        || !(r.path("reward").isNumber() || r.path("reward").isNull())) {
      throw new IllegalArgumentException(
          where + ": every response needs \"text\" and a numeric \"reward\"");
    }
    String text = r.get("text").asText();
    // null: the reward server returned a non-finite score; the response is kept but masked.
    float reward = r.get("reward").isNull() ? Float.NaN : (float) r.get("reward").asDouble();
    if (!r.has("token_ids")) {
      return ScoredResponse.ending(codec, text, reward);
    }
    int[] ids = ids(r.get("token_ids"), where, "token_ids");
    if (!r.has("sampled_version")) {
      return new ScoredResponse(text, ids, reward);
    }
    if (!r.get("sampled_version").canConvertToLong() || r.get("sampled_version").asLong() < 0) {
      throw new IllegalArgumentException(where + ": \"sampled_version\" must be an integer >= 0");
    }
    float[] logprobs = floats(r.path("token_logprobs"), where);
    if (logprobs.length != ids.length) {
      throw new IllegalArgumentException(
          where
              + ": \"token_logprobs\" needs one value per token id ("
              + ids.length
              + "), got "
              + logprobs.length);
    }
    return new ScoredResponse(
        text,
        ids,
        reward,
        new Sample(r.get("sampled_version").asLong(), finishReason(r, where), logprobs));
  }

  private static FinishReason finishReason(JsonNode r, String where) {
    String name = r.path("finish_reason").asText("");
    try {
      FinishReason reason = FinishReason.valueOf(name);
      if (reason != FinishReason.UNRECOGNIZED) {
        return reason;
      }
    } catch (IllegalArgumentException e) {
      // reported below
    }
    throw new IllegalArgumentException(
        where + ": \"finish_reason\" must be STOP, LENGTH or CANCELLED, got \"" + name + "\"");
  }

  private static int[] ids(JsonNode node, String where, String key) {
    if (!node.isArray()) {
      throw new IllegalArgumentException(where + ": \"" + key + "\" must be an array of ids");
    }
    int[] ids = new int[node.size()];
    for (int i = 0; i < ids.length; i++) {
      JsonNode id = node.get(i);
      if (!id.canConvertToInt() || !id.isIntegralNumber() || id.asInt() < 0) {
        throw new IllegalArgumentException(
            where + ": \"" + key + "\"[" + i + "] must be a token id >= 0, got " + id);
      }
      ids[i] = id.asInt();
    }
    return ids;
  }

  private static float[] floats(JsonNode node, String where) {
    if (!node.isArray()) {
      throw new IllegalArgumentException(
          where + ": a response with \"sampled_version\" needs \"token_logprobs\"");
    }
    float[] values = new float[node.size()];
    for (int i = 0; i < values.length; i++) {
      if (!node.get(i).isNumber()) {
        throw new IllegalArgumentException(
            where + ": \"token_logprobs\"[" + i + "] must be a number, got " + node.get(i));
      }
      values[i] = (float) node.get(i).asDouble();
    }
    return values;
  }

  private static void ints(ArrayNode array, int[] values) {
    for (int v : values) {
      array.add(v);
    }
  }
}

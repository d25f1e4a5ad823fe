package dev.ncalign.reward.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Optional {@code reward_config.json} in a model directory: how the model expects its input, so
 * that {@code reward-server --model DIR} serves it correctly without flags. Flags still override
 * it.
 *
 * @param template input template with {@code {prompt}} and {@code {response}}, or null for pair
 *     encoding
 * @param labelIndex column of {@code logits} that is the reward
 * @param maxLength longest sequence in tokens the model is given
 */
public record RewardModelConfig(String template, int labelIndex, int maxLength) {

  /** File name inside a model directory. */
  public static final String FILE_NAME = "reward_config.json";

  /**
   * Used when a directory has no config: pair encoding, column 0, 512 tokens (BERT-style exports).
   */
  public static final RewardModelConfig DEFAULTS = new RewardModelConfig(null, 0, 512);

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The config in {@code dir}, if it has one; missing fields take {@link #DEFAULTS}. */
  public static Optional<RewardModelConfig> read(Path dir) throws IOException {
    return readJson(dir).map(RewardModelConfig::fromJson);
  }

  /** The raw JSON of {@code dir/reward_config.json}, extra fields included, if the file exists. */
  public static Optional<ObjectNode> readJson(Path dir) throws IOException {
    Path file = dir.resolve(FILE_NAME);
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    return Optional.of((ObjectNode) JSON.readTree(file.toFile()));
  }

  private static RewardModelConfig fromJson(JsonNode node) {
    JsonNode template = node.path("template");
    return new RewardModelConfig(
        template.isTextual() ? template.asText() : DEFAULTS.template(),
        node.path("label_index").asInt(DEFAULTS.labelIndex()),
        node.path("max_length").asInt(DEFAULTS.maxLength()));
  }

  /** This config as JSON, for callers that add fields of their own before writing. */
  public ObjectNode toJson() {
    ObjectNode node = JSON.createObjectNode();
    if (template == null) {
      node.putNull("template");
    } else {
      node.put("template", template);
    }
    node.put("label_index", labelIndex);
    node.put("max_length", maxLength);
    return node;
  }

  /**
   * Writes {@code json} (usually {@link #toJson()} plus extras) as {@code dir/reward_config.json}.
   */
  public static void write(Path dir, ObjectNode json) throws IOException {
    JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve(FILE_NAME).toFile(), json);
  }

  /** The input format this config describes. */
  public InputFormat inputFormat() {
    return InputFormat.ofNullableTemplate(template);
  }
}

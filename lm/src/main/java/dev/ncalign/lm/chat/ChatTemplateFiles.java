package dev.ncalign.lm.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Finds a model directory's chat template and special-token strings where transformers looks for
 * them: {@code chat_template.jinja} (what transformers ≥ 4.50 saves), else {@code chat_template} in
 * {@code tokenizer_config.json}, which is either a string or a list of {@code {"name", "template"}}
 * (then the one named {@code default}, as {@code apply_chat_template} picks without tools).
 */
final class ChatTemplateFiles {

  /**
   * The special-token keys transformers passes to the template ({@code
   * tokenizer.special_tokens_map}).
   */
  static final List<String> SPECIAL_TOKEN_KEYS =
      List.of(
          "bos_token",
          "eos_token",
          "unk_token",
          "sep_token",
          "pad_token",
          "cls_token",
          "mask_token");

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * A template's text and the special-token strings it may refer to ({@code bos_token} -> {@code
   * <s>}).
   */
  record Found(String template, Map<String, String> specialTokens) {}

  private ChatTemplateFiles() {}

  static Optional<Found> read(Path modelDir) {
    JsonNode config = readConfig(modelDir.resolve("tokenizer_config.json"));
    Map<String, String> tokens = specialTokens(config);
    Path jinjaFile = modelDir.resolve("chat_template.jinja");
    if (Files.isRegularFile(jinjaFile)) {
      return Optional.of(new Found(readString(jinjaFile), tokens));
    }
    return templateFrom(config.path("chat_template"), modelDir).map(t -> new Found(t, tokens));
  }

  /**
   * {@code bos_token} etc. as strings; tokenizer_config holds each as a string or an AddedToken
   * object.
   */
  static Map<String, String> specialTokens(JsonNode config) {
    Map<String, String> tokens = new LinkedHashMap<>();
    for (String key : SPECIAL_TOKEN_KEYS) {
      JsonNode v = config.path(key);
      if (v.isTextual()) {
        tokens.put(key, v.asText());
      } else if (v.path("content").isTextual()) {
        tokens.put(key, v.path("content").asText());
      }
    }
    return tokens;
  }

  private static Optional<String> templateFrom(JsonNode node, Path modelDir) {
    if (node.isMissingNode() || node.isNull()) {
      return Optional.empty();
    }
    if (node.isTextual()) {
      return Optional.of(node.asText());
    }
    if (node.isArray()) {
      List<String> names = new ArrayList<>();
      for (JsonNode entry : node) {
        String name = entry.path("name").asText();
        if (name.equals("default") && entry.path("template").isTextual()) {
          return Optional.of(entry.path("template").asText());
        }
        names.add(name);
      }
      throw new IllegalArgumentException(
          modelDir + ": chat_template lists templates " + names + " but none named \"default\"");
    }
    throw new IllegalArgumentException(
        modelDir + ": chat_template is neither a string nor a list of " + "named templates");
  }

  private static JsonNode readConfig(Path file) {
    if (!Files.isRegularFile(file)) {
      return JSON.createObjectNode();
    }
    try {
      JsonNode node = JSON.readTree(file.toFile());
      if (node == null || !node.isObject()) {
        throw new IllegalArgumentException(file + " is not a JSON object");
      }
      return node;
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private static String readString(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }
}

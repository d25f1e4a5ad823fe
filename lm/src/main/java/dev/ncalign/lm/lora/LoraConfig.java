package dev.ncalign.lm.lora;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * The shape of a LoRA adapter, as PEFT's {@code LoraConfig} names it.
 *
 * @param rank r, the inner dimension of B·A (≥ 1)
 * @param alpha lora_alpha; the update is scaled by alpha / r (PEFT without rsLoRA)
 * @param dropout dropout on the adapter's input while training, in [0, 1)
 * @param targets module names the adapter applies to, from {@link #KNOWN_TARGETS}
 * @param baseModel base_model_name_or_path written into adapter_config.json (may be empty)
 */
public record LoraConfig(
    int rank, double alpha, double dropout, List<String> targets, String baseModel) {

  /** The linear layers of a Llama/Qwen2 decoder layer, PEFT's usual all-linear targets. */
  public static final List<String> KNOWN_TARGETS =
      List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Checks every field; the message of the exception names the PEFT field. */
  public LoraConfig {
    targets = List.copyOf(targets);
    baseModel = baseModel == null ? "" : baseModel;
    if (rank < 1) {
      throw new IllegalArgumentException("r must be ≥ 1, got " + rank);
    }
    if (!(alpha > 0) || !Double.isFinite(alpha)) {
      throw new IllegalArgumentException("lora_alpha must be > 0, got " + alpha);
    }
    if (!(dropout >= 0 && dropout < 1)) {
      throw new IllegalArgumentException("lora_dropout must be in [0, 1), got " + dropout);
    }
    if (targets.isEmpty()) {
      throw new IllegalArgumentException("target_modules must name at least one module");
    }
    for (String target : targets) {
      if (!KNOWN_TARGETS.contains(target)) {
        throw new IllegalArgumentException(
            "target_modules: unknown module '" + target + "', expected some of " + KNOWN_TARGETS);
      }
    }
    if (targets.stream().distinct().count() != targets.size()) {
      throw new IllegalArgumentException("target_modules lists a module twice: " + targets);
    }
  }

  /** alpha / r, the factor on B·A. */
  public float scale() {
    return (float) (alpha / rank);
  }

  /** The same adapter shape recorded against another base model path. */
  public LoraConfig withBaseModel(String path) {
    return new LoraConfig(rank, alpha, dropout, targets, path);
  }

  /** PEFT's {@code adapter_config.json} for this adapter, loadable by {@code PeftModel}. */
  public String toPeftJson() {
    ObjectNode json = JSON.createObjectNode();
    json.put("peft_type", "LORA");
    json.put("task_type", "CAUSAL_LM");
    json.put("base_model_name_or_path", baseModel);
    json.put("r", rank);
    json.put("lora_alpha", alpha);
    json.put("lora_dropout", dropout);
    json.putPOJO("target_modules", targets);
    json.put("bias", "none");
    json.put("fan_in_fan_out", false);
    json.put("use_rslora", false);
    json.put("use_dora", false);
    json.put("inference_mode", true);
    json.putNull("modules_to_save");
    json.putNull("layers_to_transform");
    json.put("init_lora_weights", true);
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Parses a PEFT {@code adapter_config.json}. Only what this model can apply is accepted: plain
   * LoRA (no rsLoRA, DoRA, fan_in_fan_out, biases, extra saved modules or per-layer subsets).
   *
   * @throws IllegalArgumentException naming the offending field
   */
  public static LoraConfig fromPeftJson(String text) {
    JsonNode json;
    try {
      json = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "adapter_config.json is not JSON: " + e.getOriginalMessage());
    }
    if (json == null || !json.isObject()) {
      throw new IllegalArgumentException("adapter_config.json must be a JSON object");
    }
    expect(json, "peft_type", "LORA", true);
    expect(json, "bias", "none", false);
    expectFalse(json, "fan_in_fan_out");
    expectFalse(json, "use_rslora");
    expectFalse(json, "use_dora");
    for (String unsupported : List.of("modules_to_save", "layers_to_transform")) {
      if (json.hasNonNull(unsupported)) {
        throw new IllegalArgumentException(unsupported + " is not supported (must be null)");
      }
    }
    JsonNode targets = json.get("target_modules");
    if (targets == null || !targets.isArray()) {
      throw new IllegalArgumentException("target_modules must be a list of module names");
    }
    List<String> names = new ArrayList<>();
    targets.forEach(t -> names.add(t.asText()));
    return new LoraConfig(
        integer(json, "r"),
        number(json, "lora_alpha"),
        json.has("lora_dropout") ? number(json, "lora_dropout") : 0.0,
        names,
        json.path("base_model_name_or_path").asText(""));
  }

  private static void expect(JsonNode json, String field, String value, boolean required) {
    JsonNode node = json.get(field);
    if ((node == null || node.isNull()) && !required) {
      return;
    }
    if (node == null || !value.equals(node.asText())) {
      throw new IllegalArgumentException(
          field + " must be \"" + value + "\", got " + (node == null ? "nothing" : node));
    }
  }

  private static void expectFalse(JsonNode json, String field) {
    if (json.path(field).asBoolean(false)) {
      throw new IllegalArgumentException(field + " is not supported (must be false)");
    }
  }

  private static int integer(JsonNode json, String field) {
    JsonNode node = json.get(field);
    if (node == null || !node.canConvertToExactIntegral() || !node.canConvertToInt()) {
      throw new IllegalArgumentException(field + " must be an integer, got " + node);
    }
    return node.asInt();
  }

  private static double number(JsonNode json, String field) {
    JsonNode node = json.get(field);
    if (node == null || !node.isNumber()) {
      throw new IllegalArgumentException(field + " must be a number, got " + node);
    }
    return node.asDouble();
  }
}

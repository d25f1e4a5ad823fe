package dev.ncalign.lm.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code rope_scaling} of a {@code config.json}: how the rotary inverse frequencies are stretched
 * for long contexts. Supported: none ({@code null} or type {@code default}), {@code linear} (every
 * frequency divided by {@code factor}) and {@code llama3} (Llama 3.1+: low frequencies divided by
 * {@code factor}, high ones kept, a smooth blend in between). Other types are refused, since
 * computing them differently from transformers would silently change the model.
 *
 * @param type {@code default}, {@code linear} or {@code llama3}
 * @param factor the stretch factor (1 for default)
 * @param lowFreqFactor llama3 only
 * @param highFreqFactor llama3 only
 * @param originalMaxPositionEmbeddings llama3 only: the context the model was pre-trained with
 */
public record RopeScaling(
    String type,
    double factor,
    double lowFreqFactor,
    double highFreqFactor,
    int originalMaxPositionEmbeddings) {

  public static final RopeScaling NONE = new RopeScaling("default", 1, 0, 0, 0);

  /**
   * Parses {@code rope_scaling} (a missing or null node is {@link #NONE}); the type is read from
   * {@code rope_type}, or the older {@code type}.
   *
   * @throws IllegalArgumentException one line naming the unsupported type or the missing field
   */
  public static RopeScaling fromJson(JsonNode node) {
    if (node == null || node.isMissingNode() || node.isNull()) {
      return NONE;
    }
    String type = node.path("rope_type").asText(node.path("type").asText("default"));
    return switch (type) {
      case "default" -> NONE;
      case "linear" -> new RopeScaling(type, number(node, "factor"), 0, 0, 0);
      case "llama3" -> {
        RopeScaling scaling =
            new RopeScaling(
                type,
                number(node, "factor"),
                number(node, "low_freq_factor"),
                number(node, "high_freq_factor"),
                (int) number(node, "original_max_position_embeddings"));
        if (scaling.highFreqFactor <= scaling.lowFreqFactor) {
          throw new IllegalArgumentException(
              "rope_scaling.high_freq_factor must be above rope_scaling.low_freq_factor");
        }
        yield scaling;
      }
      default ->
          throw new IllegalArgumentException(
              "rope_scaling type '" + type + "' is not supported (default, linear, llama3 only)");
    };
  }

  /** The {@code rope_scaling} node transformers reads, or null for none. */
  public JsonNode toJson() {
    if (this.equals(NONE)) {
      return JsonNodeFactory.instance.nullNode();
    }
    ObjectNode json = JsonNodeFactory.instance.objectNode();
    json.put("rope_type", type);
    json.put("factor", factor);
    if ("llama3".equals(type)) {
      json.put("low_freq_factor", lowFreqFactor);
      json.put("high_freq_factor", highFreqFactor);
      json.put("original_max_position_embeddings", originalMaxPositionEmbeddings);
    }
    return json;
  }

  /**
   * Applies the scaling to default inverse frequencies in place, in float32 step by step as
   * transformers' {@code _compute_linear_scaling_rope_parameters} / {@code
   * _compute_llama3_parameters} do on a float32 tensor (a Python scalar divided by a tensor is the
   * tensor's reciprocal times the scalar in PyTorch).
   */
  void apply(float[] invFreq) {
    float f = (float) factor;
    switch (type) {
      case "linear" -> {
        for (int i = 0; i < invFreq.length; i++) {
          invFreq[i] = invFreq[i] / f;
        }
      }
      case "llama3" -> {
        float lowFreqWavelen = (float) (originalMaxPositionEmbeddings / lowFreqFactor);
        float highFreqWavelen = (float) (originalMaxPositionEmbeddings / highFreqFactor);
        float twoPi = (float) (2 * Math.PI);
        float oldContext = originalMaxPositionEmbeddings;
        float low = (float) lowFreqFactor;
        float span = (float) (highFreqFactor - lowFreqFactor);
        for (int i = 0; i < invFreq.length; i++) {
          float inv = invFreq[i];
          float wavelen = (1f / inv) * twoPi;
          if (wavelen > lowFreqWavelen) {
            // Long wavelengths (low frequencies): interpolate fully.
            invFreq[i] = inv / f;
          } else if (!(wavelen < highFreqWavelen)) {
            // In between: blend the scaled and the unscaled frequency.
            float smooth = ((1f / wavelen) * oldContext - low) / span;
            invFreq[i] = (1f - smooth) * inv / f + smooth * inv;
          }
          // Short wavelengths (high frequencies) stay as they are.
        }
      }
      default -> {}
    }
  }

  private static double number(JsonNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null || !value.isNumber()) {
      throw new IllegalArgumentException("missing number field 'rope_scaling." + field + "'");
    }
    return value.asDouble();
  }
}

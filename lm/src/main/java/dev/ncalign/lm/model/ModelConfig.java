package dev.ncalign.lm.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The fields of a Hugging Face {@code config.json} that define a Llama-style decoder ({@code
 * LlamaForCausalLM} or {@code Qwen2ForCausalLM}).
 *
 * @param architecture HF architecture name
 * @param vocabSize rows of the embedding and of lm_head
 * @param hiddenSize model width
 * @param intermediateSize SwiGLU inner width
 * @param numHiddenLayers decoder layers
 * @param numAttentionHeads query heads
 * @param numKeyValueHeads key/value heads (grouped-query attention when fewer than query heads)
 * @param headDim per-head width ({@code head_dim}, default hidden / heads)
 * @param rmsNormEps RMSNorm epsilon
 * @param ropeTheta RoPE base
 * @param ropeScaling {@code rope_scaling} ({@link RopeScaling#NONE} when absent)
 * @param maxPositionEmbeddings context window in tokens
 * @param tieWordEmbeddings lm_head shares the embedding matrix
 * @param qkvBias q/k/v projections carry a bias (always for Qwen2, {@code attention_bias} for
 *     Llama)
 * @param outputBias o_proj carries a bias ({@code attention_bias} for Llama)
 * @param bosTokenId begin-of-sequence id, or -1
 * @param eosTokenIds end-of-sequence ids (HF allows an int or a list)
 * @param padTokenId padding id, or -1
 */
public record ModelConfig(
    String architecture,
    int vocabSize,
    int hiddenSize,
    int intermediateSize,
    int numHiddenLayers,
    int numAttentionHeads,
    int numKeyValueHeads,
    int headDim,
    double rmsNormEps,
    double ropeTheta,
    RopeScaling ropeScaling,
    int maxPositionEmbeddings,
    boolean tieWordEmbeddings,
    boolean qkvBias,
    boolean outputBias,
    int bosTokenId,
    List<Integer> eosTokenIds,
    int padTokenId) {

  public static final String LLAMA = "LlamaForCausalLM";
  public static final String QWEN2 = "Qwen2ForCausalLM";

  private static final ObjectMapper JSON = new ObjectMapper();

  public ModelConfig {
    if (!LLAMA.equals(architecture) && !QWEN2.equals(architecture)) {
      throw new IllegalArgumentException(
          "unsupported architecture '" + architecture + "'; expected " + LLAMA + " or " + QWEN2);
    }
    if (numAttentionHeads % numKeyValueHeads != 0) {
      throw new IllegalArgumentException(
          "num_attention_heads must be a multiple of num_key_value_heads");
    }
    if (headDim % 2 != 0) {
      throw new IllegalArgumentException("head_dim must be even for rotary embeddings");
    }
    eosTokenIds = List.copyOf(eosTokenIds);
    if (ropeScaling == null) {
      ropeScaling = RopeScaling.NONE;
    }
  }

  /**
   * Reads {@code config.json} alone; {@link HfModelDirectory#open} also adds the eos ids of {@code
   * generation_config.json}.
   *
   * @throws ModelDirectoryException naming the file and the field
   */
  public static ModelConfig read(Path configJson) {
    JsonNode json = HfModelDirectory.readObject(configJson);
    try {
      return fromJson(json);
    } catch (IllegalArgumentException e) {
      throw new ModelDirectoryException(configJson, e.getMessage());
    }
  }

  /**
   * Parses a config tree; rejects features this implementation does not compute (so results stay
   * exact).
   */
  public static ModelConfig fromJson(JsonNode json) {
    JsonNode archs = json.path("architectures");
    if (!archs.isArray() || archs.isEmpty()) {
      throw new IllegalArgumentException("missing list field 'architectures'");
    }
    String arch = archs.get(0).asText();
    String act = json.path("hidden_act").asText("silu");
    if (!"silu".equals(act)) {
      throw new IllegalArgumentException("unsupported hidden_act '" + act + "'; only silu");
    }
    if (json.path("use_sliding_window").asBoolean(false)) {
      throw new IllegalArgumentException("use_sliding_window is not supported");
    }
    if (json.path("mlp_bias").asBoolean(false)) {
      throw new IllegalArgumentException("mlp_bias is not supported");
    }
    int hidden = required(json, "hidden_size");
    int heads = required(json, "num_attention_heads");
    boolean attentionBias = json.path("attention_bias").asBoolean(false);
    boolean qwen2 = QWEN2.equals(arch);
    return new ModelConfig(
        arch,
        required(json, "vocab_size"),
        hidden,
        required(json, "intermediate_size"),
        required(json, "num_hidden_layers"),
        heads,
        json.path("num_key_value_heads").asInt(heads),
        json.hasNonNull("head_dim") ? json.get("head_dim").asInt() : hidden / heads,
        json.path("rms_norm_eps").asDouble(1e-6),
        json.path("rope_theta").asDouble(10000.0),
        RopeScaling.fromJson(json.get("rope_scaling")),
        required(json, "max_position_embeddings"),
        json.path("tie_word_embeddings").asBoolean(false),
        qwen2 || attentionBias,
        !qwen2 && attentionBias,
        json.hasNonNull("bos_token_id") ? json.get("bos_token_id").asInt() : -1,
        intList(json.path("eos_token_id")),
        json.hasNonNull("pad_token_id") ? json.get("pad_token_id").asInt() : -1);
  }

  /** A {@code config.json} tree HF transformers can load. */
  public ObjectNode toJson() {
    ObjectNode json = JSON.createObjectNode();
    json.putArray("architectures").add(architecture);
    json.put("model_type", QWEN2.equals(architecture) ? "qwen2" : "llama");
    json.put("vocab_size", vocabSize);
    json.put("hidden_size", hiddenSize);
    json.put("intermediate_size", intermediateSize);
    json.put("num_hidden_layers", numHiddenLayers);
    json.put("num_attention_heads", numAttentionHeads);
    json.put("num_key_value_heads", numKeyValueHeads);
    json.put("head_dim", headDim);
    json.put("hidden_act", "silu");
    json.put("rms_norm_eps", rmsNormEps);
    json.put("rope_theta", ropeTheta);
    json.set("rope_scaling", ropeScaling.toJson());
    json.put("max_position_embeddings", maxPositionEmbeddings);
    json.put("tie_word_embeddings", tieWordEmbeddings);
    if (!QWEN2.equals(architecture)) {
      json.put("attention_bias", qkvBias);
    }
    if (bosTokenId >= 0) {
      json.put("bos_token_id", bosTokenId);
    }
    if (eosTokenIds.size() == 1) {
      json.put("eos_token_id", eosTokenIds.get(0));
    } else {
      eosTokenIds.forEach(json.putArray("eos_token_id")::add);
    }
    if (padTokenId >= 0) {
      json.put("pad_token_id", padTokenId);
    }
    json.put("torch_dtype", "float32");
    return json;
  }

  /** Writes {@link #toJson()} to a file. */
  public void write(Path configJson) {
    try {
      Files.writeString(
          configJson, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(toJson()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + configJson, e);
    }
  }

  /** Query heads sharing one key/value head. */
  public int groupSize() {
    return numAttentionHeads / numKeyValueHeads;
  }

  private static int required(JsonNode json, String field) {
    JsonNode node = json.get(field);
    if (node == null || !node.canConvertToInt()) {
      throw new IllegalArgumentException("missing integer field '" + field + "'");
    }
    return node.asInt();
  }

  /** An int or a list of ints (how HF writes {@code eos_token_id}). */
  static List<Integer> intList(JsonNode node) {
    List<Integer> ids = new ArrayList<>();
    if (node.isArray()) {
      node.forEach(n -> ids.add(n.asInt()));
    } else if (node.canConvertToInt()) {
      ids.add(node.asInt());
    }
    return ids;
  }
}

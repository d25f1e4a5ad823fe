package dev.ncalign.lm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

/** config.json files as Hugging Face writes them for the supported architectures. */
class ModelConfigTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void readsAQwen2Config() throws Exception {
    ModelConfig c =
        ModelConfig.fromJson(
            JSON.readTree(
                """
                {"architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
                 "eos_token_id": 151643, "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02,
                 "intermediate_size": 4864, "max_position_embeddings": 32768, "max_window_layers": 24,
                 "model_type": "qwen2", "num_attention_heads": 14, "num_hidden_layers": 24,
                 "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_scaling": null, "rope_theta": 1000000.0,
                 "sliding_window": 32768, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
                 "transformers_version": "4.43.1", "use_cache": true, "use_sliding_window": false,
                 "vocab_size": 151936}"""));
    assertEquals(ModelConfig.QWEN2, c.architecture());
    assertEquals(64, c.headDim());
    assertEquals(7, c.groupSize());
    assertTrue(c.qkvBias());
    assertFalse(c.outputBias());
    assertTrue(c.tieWordEmbeddings());
    assertEquals(1_000_000.0, c.ropeTheta());
    assertEquals(List.of(151643), c.eosTokenIds());
    assertEquals(-1, c.padTokenId());
  }

  @Test
  void readsALlamaConfigWithAnEosList() throws Exception {
    ModelConfig c =
        ModelConfig.fromJson(
            JSON.readTree(
                """
                {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "bos_token_id": 1,
                 "eos_token_id": [2, 32000], "hidden_act": "silu", "hidden_size": 2048, "intermediate_size": 5632,
                 "max_position_embeddings": 2048, "model_type": "llama", "num_attention_heads": 32,
                 "num_hidden_layers": 22, "num_key_value_heads": 4, "rms_norm_eps": 1e-05, "rope_scaling": null,
                 "rope_theta": 10000.0, "tie_word_embeddings": false, "vocab_size": 32000}"""));
    assertEquals(ModelConfig.LLAMA, c.architecture());
    assertFalse(c.qkvBias());
    assertEquals(List.of(2, 32000), c.eosTokenIds());
    assertEquals(1e-5, c.rmsNormEps());
    assertEquals(c, ModelConfig.fromJson(c.toJson()), "toJson round-trips");
  }

  @Test
  void rejectsWhatItWouldComputeDifferently() {
    String base =
        "\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 8, \"intermediate_size\": 8,"
            + " \"num_hidden_layers\": 1, \"num_attention_heads\": 2, \"max_position_embeddings\": 8, \"vocab_size\": 4";
    assertRejected(
        "{" + base + ", \"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 8.0}}",
        "rope_scaling type 'yarn' is not supported");
    assertRejected(
        "{" + base + ", \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0}}",
        "rope_scaling.low_freq_factor");
    assertRejected("{" + base + ", \"hidden_act\": \"gelu\"}", "hidden_act");
    assertRejected("{" + base + ", \"mlp_bias\": true}", "mlp_bias");
    assertRejected(
        "{" + base.replace("\"vocab_size\": 4", "\"vocab_size\": \"x\"") + "}", "vocab_size");
  }

  private static void assertRejected(String json, String field) {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> ModelConfig.fromJson(JSON.readTree(json)));
    assertTrue(e.getMessage().contains(field), e.getMessage());
  }
}

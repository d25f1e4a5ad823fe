package dev.ncalign.bench;

import static dev.ncalign.bench.RewardOnnxGraph.attribute;

import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ncalign.reward.model.OnnxRewardModel;
import dev.ncalign.reward.model.RewardModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Random;

/**
 * A decoder-style reward model directory with random weights, shaped like Hugging Face's {@code
 * LlamaForSequenceClassification} exported to ONNX: token and position embeddings, {@code layers}
 * pre-norm blocks of causal multi-head self-attention and a SiLU MLP, a final norm, a score head
 * applied at every position, and the reward read at the last token that is not {@code
 * config.json}'s {@code pad_token_id} (as HF's decoders pool). Its rewards mean nothing; it has the
 * cost structure of a real decoder reward model (matrix products that grow with batch × length,
 * dozens of graph nodes per run), which the embedded demo model, a single convolution, lacks.
 *
 * <p>Right padding never changes a row's reward: the causal mask keeps real tokens from seeing the
 * pads after them, and pooling stops at the last real token.
 */
final class RewardDecoderModel {

  /** Inputs longer than this are cut by the server (the demo texts fit). */
  static final int MAX_LENGTH = 64;

  /** Pad id of the review tokenizer ({@code <pad>}). */
  static final long PAD_ID = 0;

  /**
   * Sizes.
   *
   * @param dim model width
   * @param heads attention heads (divide {@code dim})
   * @param ffn MLP width
   * @param layers decoder blocks
   */
  record Spec(int dim, int heads, int ffn, int layers) {
    /** The benchmark's default: about 1.6 M parameters (6 MB of F32). */
    static final Spec DEFAULT = new Spec(256, 4, 1024, 2);

    Spec {
      if (dim < 1 || heads < 1 || dim % heads != 0 || ffn < 1 || layers < 1) {
        throw new IllegalArgumentException("bad decoder spec " + dim + "/" + heads);
      }
    }

    /** Weights of the blocks and the head, embeddings excluded. */
    long blockParameters() {
      return (long) layers * (4L * dim * dim + 2L * dim * ffn) + dim;
    }
  }

  private RewardDecoderModel() {}

  /**
   * Writes the model into {@code dir} with {@code tokenizerJson} (a word-level review tokenizer,
   * {@code <pad>} at id 0) as its tokenizer; returns {@code dir}.
   */
  static Path write(Path dir, Path tokenizerJson, Spec spec, long seed) throws IOException {
    Files.createDirectories(dir);
    Files.copy(tokenizerJson, dir.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
    int vocabulary = new ObjectMapper().readTree(tokenizerJson.toFile()).at("/model/vocab").size();
    if (vocabulary == 0) {
      throw new IllegalArgumentException(tokenizerJson + " has no model.vocab");
    }
    ObjectMapper json = new ObjectMapper();
    ObjectNode config = json.createObjectNode();
    config.putArray("architectures").add("LlamaForSequenceClassification");
    config.put("pad_token_id", PAD_ID);
    config.put("hidden_size", spec.dim());
    config.put("num_attention_heads", spec.heads());
    config.put("intermediate_size", spec.ffn());
    config.put("num_hidden_layers", spec.layers());
    config.put("vocab_size", vocabulary);
    json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), config);
    graph(spec, vocabulary, new Random(seed)).write(dir.resolve(OnnxRewardModel.MODEL_FILE));
    ObjectNode settings = new RewardModelConfig("{prompt} {response}", 0, MAX_LENGTH).toJson();
    settings.put("description", "random decoder-style reward model for benchmarks (" + spec + ")");
    RewardModelConfig.write(dir, settings);
    return dir;
  }

  private static RewardOnnxGraph graph(Spec spec, int vocabulary, Random random) {
    RewardOnnxGraph g =
        new RewardOnnxGraph("decoder_reward")
            .input("input_ids", DataType.INT64, 2)
            .input("attention_mask", DataType.INT64, 2)
            .output("logits", DataType.FLOAT, 2);
    int dim = spec.dim();
    float embedScale = 1f;
    String shape = g.op("Shape", List.of("input_ids"));
    String length = g.op("Gather", List.of(shape, g.scalar("one", 1)));
    String lengthVector = g.op("Gather", List.of(shape, g.longs("one_vector", 1)));
    String positions = g.op("Range", List.of(g.scalar("zero", 0), length, g.scalar("step", 1)));
    String x =
        g.op(
            "Add",
            List.of(
                g.op(
                    "Gather",
                    List.of(g.weight("embed", random, embedScale, vocabulary, dim), "input_ids")),
                g.op(
                    "Gather",
                    List.of(
                        g.weight("positions", random, embedScale, MAX_LENGTH, dim), positions))));
    // Additive causal mask [T, T]: 0 on and below the diagonal, -1e9 above.
    String square = g.op("Concat", List.of(lengthVector, lengthVector), attribute("axis", 0L));
    String ones =
        g.op("ConstantOfShape", List.of(square), RewardOnnxGraph.tensorAttribute("value", 1f));
    String lower = g.op("Trilu", List.of(ones), attribute("upper", 0L));
    String causal =
        g.op(
            "Mul",
            List.of(g.op("Sub", List.of(lower, g.filled("one_f", 1f))), g.filled("big", 1e9f)));
    for (int layer = 0; layer < spec.layers(); layer++) {
      x = block(g, spec, x, causal, "layer" + layer, random);
    }
    String scores =
        g.op(
            "MatMul",
            List.of(
                norm(g, x, dim, "final_norm"),
                g.weight("score", random, (float) (1 / Math.sqrt(dim)), dim, 1)));
    // Last position that is not padding: (number of non-pad tokens) - 1, as a one-hot over T.
    String isToken =
        g.op(
            "Cast",
            List.of(
                g.op("Not", List.of(g.op("Equal", List.of("input_ids", g.scalar("pad", PAD_ID)))))),
            attribute("to", (long) DataType.INT64_VALUE));
    String last =
        g.op(
            "Sub",
            List.of(
                g.op("ReduceSum", List.of(isToken, g.longs("axis1", 1)), attribute("keepdims", 1L)),
                g.scalar("one_step", 1)));
    String pick =
        g.op(
            "Unsqueeze",
            List.of(
                g.op(
                    "Cast",
                    List.of(g.op("Equal", List.of(positions, last))),
                    attribute("to", (long) DataType.FLOAT_VALUE)),
                g.longs("axis2", 2)));
    g.op(
        "ReduceSum",
        "logits",
        List.of(g.op("Mul", List.of(scores, pick)), "axis1"),
        attribute("keepdims", 0L));
    return g;
  }

  /** x + attention(norm(x)), then + mlp(norm(...)). */
  private static String block(
      RewardOnnxGraph g, Spec spec, String x, String causal, String name, Random random) {
    int dim = spec.dim();
    int headDim = dim / spec.heads();
    float scale = (float) (1 / Math.sqrt(dim));
    String a = norm(g, x, dim, name + ".attn_norm");
    // Queries and values as [B, H, T, D/H]; keys already transposed to [B, H, D/H, T].
    String q = heads(g, a, name + ".q", spec, random, 0, 2, 1, 3);
    String kT = heads(g, a, name + ".k", spec, random, 0, 2, 3, 1);
    String v = heads(g, a, name + ".v", spec, random, 0, 2, 1, 3);
    String logits =
        g.op(
            "Add",
            List.of(
                g.op(
                    "Mul",
                    List.of(
                        g.op("MatMul", List.of(q, kT)),
                        g.filled(name + ".inv_sqrt_head_dim", (float) (1 / Math.sqrt(headDim))))),
                causal));
    String attended =
        g.op("MatMul", List.of(g.op("Softmax", List.of(logits), attribute("axis", -1L)), v));
    String merged =
        g.op(
            "Reshape",
            List.of(
                g.op("Transpose", List.of(attended), attribute("perm", new long[] {0, 2, 1, 3})),
                g.longs(name + ".merged_shape", 0, 0, dim)));
    String h =
        g.op(
            "Add",
            List.of(
                x,
                g.op("MatMul", List.of(merged, g.weight(name + ".o", random, scale, dim, dim)))));
    String m = norm(g, h, dim, name + ".mlp_norm");
    String up = g.op("MatMul", List.of(m, g.weight(name + ".up", random, scale, dim, spec.ffn())));
    String silu = g.op("Mul", List.of(up, g.op("Sigmoid", List.of(up))));
    String down =
        g.op(
            "MatMul",
            List.of(
                silu,
                g.weight(
                    name + ".down", random, (float) (1 / Math.sqrt(spec.ffn())), spec.ffn(), dim)));
    return g.op("Add", List.of(h, down));
  }

  /** A projection of {@code x} [B, T, D] split into heads [B, T, H, D/H], transposed by perm. */
  private static String heads(
      RewardOnnxGraph g, String x, String weight, Spec spec, Random random, long... perm) {
    int dim = spec.dim();
    String projected =
        g.op(
            "MatMul", List.of(x, g.weight(weight, random, (float) (1 / Math.sqrt(dim)), dim, dim)));
    String shape = g.longs(weight + ".heads_shape", 0, 0, spec.heads(), dim / spec.heads());
    return g.op(
        "Transpose", List.of(g.op("Reshape", List.of(projected, shape))), attribute("perm", perm));
  }

  private static String norm(RewardOnnxGraph g, String x, int dim, String name) {
    return g.op(
        "LayerNormalization",
        List.of(x, g.filled(name + ".weight", 1f, dim), g.filled(name + ".bias", 0f, dim)),
        attribute("axis", -1L),
        attribute("epsilon", 1e-5f));
  }
}

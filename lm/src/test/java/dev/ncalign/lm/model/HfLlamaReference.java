package dev.ncalign.lm.model;

import java.util.Map;

/**
 * The Hugging Face Llama/Qwen2 forward written out in plain Java doubles, one sequence, no
 * batching: an independent check of the DJL implementation (RMSNorm, rotate-half RoPE, GQA, biases,
 * SwiGLU, tying).
 */
final class HfLlamaReference {

  private final ModelConfig c;
  private final Map<String, float[]> w;
  private final double[] invFreq;

  HfLlamaReference(ModelConfig config, Map<String, float[]> weights) {
    this.c = config;
    this.w = weights;
    this.invFreq = RopeReference.invFreq(config);
  }

  /** Logits [seq][vocab]. */
  double[][] logits(int[] ids) {
    int seq = ids.length;
    int hidden = c.hiddenSize();
    double[][] x = new double[seq][hidden];
    float[] embed = w.get("model.embed_tokens.weight");
    for (int t = 0; t < seq; t++) {
      for (int i = 0; i < hidden; i++) {
        x[t][i] = embed[ids[t] * hidden + i];
      }
    }
    for (int l = 0; l < c.numHiddenLayers(); l++) {
      String p = "model.layers." + l + ".";
      double[][] attn =
          attention(rmsNorm(x, w.get(p + "input_layernorm.weight")), p + "self_attn.");
      add(x, attn);
      double[][] h = rmsNorm(x, w.get(p + "post_attention_layernorm.weight"));
      double[][] gate = linear(h, p + "mlp.gate_proj");
      double[][] up = linear(h, p + "mlp.up_proj");
      for (int t = 0; t < seq; t++) {
        for (int i = 0; i < gate[t].length; i++) {
          double g = gate[t][i];
          gate[t][i] = g / (1 + Math.exp(-g)) * up[t][i];
        }
      }
      add(x, linear(gate, p + "mlp.down_proj"));
    }
    double[][] normed = rmsNorm(x, w.get("model.norm.weight"));
    return c.tieWordEmbeddings()
        ? matmulTransposed(normed, embed, c.vocabSize(), null)
        : linear(normed, "lm_head");
  }

  private double[][] attention(double[][] h, String p) {
    int seq = h.length;
    int hd = c.headDim();
    double[][] q = linear(h, p + "q_proj");
    double[][] k = linear(h, p + "k_proj");
    double[][] v = linear(h, p + "v_proj");
    for (int t = 0; t < seq; t++) {
      rope(q[t], t);
      rope(k[t], t);
    }
    double[][] out = new double[seq][c.numAttentionHeads() * hd];
    for (int head = 0; head < c.numAttentionHeads(); head++) {
      int kvHead = head / c.groupSize();
      for (int t = 0; t < seq; t++) {
        double[] scores = new double[t + 1];
        double max = Double.NEGATIVE_INFINITY;
        for (int s = 0; s <= t; s++) {
          double dot = 0;
          for (int i = 0; i < hd; i++) {
            dot += q[t][head * hd + i] * k[s][kvHead * hd + i];
          }
          scores[s] = dot / Math.sqrt(hd);
          max = Math.max(max, scores[s]);
        }
        double total = 0;
        for (int s = 0; s <= t; s++) {
          scores[s] = Math.exp(scores[s] - max);
          total += scores[s];
        }
        for (int s = 0; s <= t; s++) {
          for (int i = 0; i < hd; i++) {
            out[t][head * hd + i] += scores[s] / total * v[s][kvHead * hd + i];
          }
        }
      }
    }
    return linear(out, p + "o_proj");
  }

  /** Rotate-half RoPE on every head of one position. */
  private void rope(double[] vector, int position) {
    int hd = c.headDim();
    int half = hd / 2;
    for (int head = 0; head < vector.length / hd; head++) {
      int base = head * hd;
      for (int i = 0; i < half; i++) {
        double angle = position * invFreq[i];
        double x1 = vector[base + i];
        double x2 = vector[base + half + i];
        vector[base + i] = x1 * Math.cos(angle) - x2 * Math.sin(angle);
        vector[base + half + i] = x2 * Math.cos(angle) + x1 * Math.sin(angle);
      }
    }
  }

  private double[][] rmsNorm(double[][] x, float[] weight) {
    double[][] out = new double[x.length][x[0].length];
    for (int t = 0; t < x.length; t++) {
      double meanSquare = 0;
      for (double value : x[t]) {
        meanSquare += value * value / x[t].length;
      }
      double scale = 1 / Math.sqrt(meanSquare + c.rmsNormEps());
      for (int i = 0; i < x[t].length; i++) {
        out[t][i] = weight[i] * x[t][i] * scale;
      }
    }
    return out;
  }

  private double[][] linear(double[][] x, String name) {
    float[] weight = w.get(name + ".weight");
    return matmulTransposed(x, weight, weight.length / x[0].length, w.get(name + ".bias"));
  }

  /** x @ weight^T + bias, weight stored [out][in] as in PyTorch. */
  private static double[][] matmulTransposed(
      double[][] x, float[] weight, int outSize, float[] bias) {
    int in = x[0].length;
    double[][] out = new double[x.length][outSize];
    for (int t = 0; t < x.length; t++) {
      for (int o = 0; o < outSize; o++) {
        double sum = bias == null ? 0 : bias[o];
        for (int i = 0; i < in; i++) {
          sum += x[t][i] * weight[o * in + i];
        }
        out[t][o] = sum;
      }
    }
    return out;
  }

  private static void add(double[][] x, double[][] delta) {
    for (int t = 0; t < x.length; t++) {
      for (int i = 0; i < x[t].length; i++) {
        x[t][i] += delta[t][i];
      }
    }
  }
}

package dev.ncalign.lm.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.lm.model.TinyModelFactory;
import dev.ncalign.lm.model.TinyModelSpec;
import dev.ncalign.lm.sampling.SampledSequence;
import dev.ncalign.lm.sampling.Sampler;
import dev.ncalign.lm.sampling.SamplingOptions;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

/**
 * Generation and scoring throughput on a random model (not a unit test: no timing assertions).
 * Args: hidden layers vocab prompts k maxNewTokens, e.g. {@code 256 4 2000 4 8 32}.
 */
public final class GenerationBench {

  private GenerationBench() {}

  public static void main(String[] args) throws Exception {
    int hidden = Integer.parseInt(args[0]);
    int layers = Integer.parseInt(args[1]);
    int vocabSize = Integer.parseInt(args[2]);
    int prompts = Integer.parseInt(args[3]);
    int k = Integer.parseInt(args[4]);
    int maxNew = Integer.parseInt(args[5]);
    List<String> vocabulary = new ArrayList<>();
    for (int i = 0; i < vocabSize; i++) {
      vocabulary.add("w" + i);
    }
    TinyModelSpec spec =
        new TinyModelSpec(hidden, layers, hidden / 32, hidden / 64, hidden * 3, 512);
    try (CausalLm lm =
        CausalLm.load(
            TinyModelFactory.write(Files.createTempDirectory("bench"), vocabulary, spec, 1),
            Device.cpu())) {
      List<String> texts = new ArrayList<>();
      for (int p = 0; p < prompts; p++) {
        texts.add(String.join(" ", vocabulary.subList(p * 7, p * 7 + 16)));
      }
      // max_new_tokens is always reached: the eos id is only one of many tokens.
      Sampler sampler = new Sampler();
      SamplingOptions options = SamplingOptions.of(maxNew, 1);
      for (int warmup = 0; warmup < 2; warmup++) {
        sampler.generate(lm, texts, k, options, () -> false);
      }
      int rounds = 5;
      long tokens = 0;
      long start = System.nanoTime();
      List<SampledSequence> last = null;
      for (int r = 0; r < rounds; r++) {
        last = sampler.generate(lm, texts, k, options, () -> false);
        tokens += last.stream().mapToInt(s -> s.tokenIds().length).sum();
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      System.out.printf(
          "model %,d params; generate %d prompts x %d samples x %d tokens: %.1f tokens/s (%.0f ms per call)%n",
          lm.parameterCount(), prompts, k, maxNew, tokens / seconds, 1000 * seconds / rounds);

      List<int[]> promptIds = new ArrayList<>();
      List<int[]> responseIds = new ArrayList<>();
      for (SampledSequence s : last) {
        promptIds.add(lm.codec().encodePrompt(texts.get(s.promptIndex())));
        responseIds.add(s.tokenIds());
      }
      start = System.nanoTime();
      for (int r = 0; r < rounds; r++) {
        try (NDManager scope = lm.manager().newSubManager()) {
          lm.logprobs(scope, promptIds, responseIds, false).sums().toFloatArray();
        }
      }
      seconds = (System.nanoTime() - start) / 1e9;
      System.out.printf(
          "logprobs of those %d sequences: %.0f ms per call%n",
          promptIds.size(), 1000 * seconds / rounds);
    }
  }
}

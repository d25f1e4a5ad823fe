package dev.ncalign.lm.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/** Tiny models for tests, written once per JVM into temp directories. */
public final class TestModels {

  public static final List<String> VOCABULARY =
      List.of(
          "the", "a", "cat", "dog", "sat", "ran", "on", "mat", "big", "small", "red", "blue", "and",
          "is", "good", "bad", "very", "happy", "sad", "tree", "house", ".", ",", "!", "?", "hello",
          "world", "yes", "no", "maybe", "stop", "here", "there", "one", "two", "three");

  private static Path tinyDir;

  private TestModels() {}

  /** A Llama-style tiny model directory (GQA, separate lm_head), shared by the tests of one JVM. */
  public static synchronized Path tinyDir() {
    if (tinyDir == null) {
      tinyDir = TinyModelFactory.write(tempDir("tiny-llama"), VOCABULARY, TinyModelSpec.tiny(), 42);
    }
    return tinyDir;
  }

  /** A fresh tiny model directory with the given spec. */
  public static Path write(TinyModelSpec spec, long seed) {
    return TinyModelFactory.write(tempDir("tiny"), VOCABULARY, spec, seed);
  }

  public static CausalLm loadTiny() {
    return CausalLm.load(tinyDir(), Device.cpu());
  }

  /**
   * Overwrites every weight with N(0, std²) (norms 1 + noise) so logits are far from uniform and a
   * comparison between implementations means something.
   */
  public static void randomize(CausalLm lm, long seed, double std) {
    Random random = new Random(seed);
    lm.parameters()
        .forEach(
            (name, parameter) -> {
              NDArray array = parameter.getArray();
              float[] values = new float[Math.toIntExact(array.size())];
              for (int i = 0; i < values.length; i++) {
                values[i] =
                    (float) ((name.endsWith("norm.weight") ? 1 : 0) + random.nextGaussian() * std);
              }
              WeightArrays.copyInto(array, values);
            });
  }

  public static Path tempDir(String prefix) {
    try {
      Path dir = Files.createTempDirectory(prefix);
      dir.toFile().deleteOnExit();
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

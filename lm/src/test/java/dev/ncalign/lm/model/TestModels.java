package dev.ncalign.lm.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

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
  /**
   * The safetensors file of {@code parameters} after {@code edit} changed the tensor map: weights
   * or adapters a load or a push must refuse.
   */
  public static byte[] edited(
      Map<String, Parameter> parameters, Consumer<Map<String, Safetensors.Tensor>> edit) {
    Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
    parameters.forEach(
        (name, p) ->
            tensors.put(
                name,
                new Safetensors.Tensor(
                    p.getArray().getShape().getShape(), p.getArray().toFloatArray())));
    edit.accept(tensors);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Safetensors.write(out, tensors);
    return out.toByteArray();
  }

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

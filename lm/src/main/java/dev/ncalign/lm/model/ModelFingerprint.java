package dev.ncalign.lm.model;

import dev.ncalign.lm.io.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What identifies the base model of a Hugging Face directory, so an orchestrator can check that a
 * policy replica serves the same model its learner trains: the architecture, the tensor names,
 * dtypes and shapes, the tokenizer, and the base weights, each as a sha256.
 *
 * @param architecture HF architecture name from {@code config.json}
 * @param shapesSha256 sha256 of one {@code name dtype [shape]} line per tensor, sorted by name
 * @param tokenizerSha256 sha256 of {@code tokenizer.json} then {@code tokenizer_config.json} (when
 *     present): the vocabulary and the chat template
 * @param weightsSha256 sha256 of the {@code *.safetensors} files' bytes, in file-name order
 */
public record ModelFingerprint(
    String architecture, String shapesSha256, String tokenizerSha256, String weightsSha256) {

  private static final List<String> TOKENIZER_FILES =
      List.of(HfModelDirectory.TOKENIZER, "tokenizer_config.json");

  /**
   * The fingerprint of the model in {@code dir}; reads every weight byte once (about a second per
   * GB).
   *
   * @throws UncheckedIOException if the directory is not a readable model directory
   */
  public static ModelFingerprint of(Path dir) {
    try {
      String architecture = ModelConfig.read(dir.resolve(HfModelDirectory.CONFIG)).architecture();
      List<Path> weightFiles;
      try (Stream<Path> files = Files.list(dir)) {
        weightFiles =
            files
                .filter(f -> f.getFileName().toString().endsWith(".safetensors"))
                .sorted()
                .toList();
      }
      if (weightFiles.isEmpty()) {
        throw new IOException("no *.safetensors file in " + dir);
      }
      MessageDigest weights = Sha256.newDigest();
      Map<String, String> shapes = new TreeMap<>();
      for (Path file : weightFiles) {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), weights)) {
          for (Safetensors.TensorInfo t : new Safetensors.Reader(in).header().values()) {
            shapes.put(t.name(), t.name() + " " + t.dtype() + " " + Arrays.toString(t.shape()));
          }
          in.transferTo(OutputStream.nullOutputStream());
        }
      }
      MessageDigest shapeDigest = Sha256.newDigest();
      shapes.values().forEach(l -> shapeDigest.update((l + "\n").getBytes(StandardCharsets.UTF_8)));
      MessageDigest tokenizer = Sha256.newDigest();
      List<Path> tokenizerFiles = new ArrayList<>();
      for (String name : TOKENIZER_FILES) {
        if (Files.exists(dir.resolve(name))) {
          tokenizerFiles.add(dir.resolve(name));
        }
      }
      for (Path file : tokenizerFiles) {
        tokenizer.update(Files.readAllBytes(file));
      }
      return new ModelFingerprint(
          architecture, Sha256.hex(shapeDigest), Sha256.hex(tokenizer), Sha256.hex(weights));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot fingerprint the model in " + dir + ": " + e, e);
    }
  }

  /**
   * What differs from {@code other}, e.g. {@code "tokenizer (sha256 1a2b3c4d… vs 5e6f7a8b…)"}, one
   * entry per field; empty when they are the same model.
   */
  public List<String> differences(ModelFingerprint other) {
    List<String> out = new ArrayList<>();
    if (!architecture.equals(other.architecture)) {
      out.add("architecture (" + architecture + " vs " + other.architecture + ")");
    }
    compare("tensor shapes", shapesSha256, other.shapesSha256, out);
    compare("tokenizer", tokenizerSha256, other.tokenizerSha256, out);
    compare("base weights", weightsSha256, other.weightsSha256, out);
    return out;
  }

  private static void compare(String what, String mine, String theirs, List<String> out) {
    if (!mine.equals(theirs)) {
      out.add(what + " (sha256 " + shortHash(mine) + " vs " + shortHash(theirs) + ")");
    }
  }

  private static String shortHash(String hex) {
    return hex.length() > 12 ? hex.substring(0, 12) + "…" : hex.isEmpty() ? "none" : hex;
  }
}

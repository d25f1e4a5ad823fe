package dev.ncalign.lm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFingerprintTest {

  @TempDir Path tmp;

  private static Path copy(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> files = Files.list(from)) {
      for (Path f : files.toList()) {
        Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    return to;
  }

  @Test
  void aCopyOfTheDirectoryIsTheSameModel() throws IOException {
    ModelFingerprint original = ModelFingerprint.of(TestModels.tinyDir());
    ModelFingerprint copied = ModelFingerprint.of(copy(TestModels.tinyDir(), tmp.resolve("copy")));

    assertEquals(original, copied);
    assertEquals(List.of(), original.differences(copied));
    assertEquals(ModelConfig.LLAMA, original.architecture());
    assertEquals(64, original.weightsSha256().length());
  }

  @Test
  void otherWeightsOfTheSameShapesDifferOnlyInTheWeights() {
    ModelFingerprint a = ModelFingerprint.of(TestModels.write(TinyModelSpec.tiny(), 1));
    ModelFingerprint b = ModelFingerprint.of(TestModels.write(TinyModelSpec.tiny(), 2));

    List<String> differences = a.differences(b);
    assertEquals(1, differences.size(), differences.toString());
    assertTrue(differences.get(0).startsWith("base weights (sha256 "), differences.get(0));
    assertEquals(a.shapesSha256(), b.shapesSha256());
    assertEquals(a.tokenizerSha256(), b.tokenizerSha256());
  }

  @Test
  void anotherTokenizerIsNamed() throws IOException {
    Path dir = copy(TestModels.tinyDir(), tmp.resolve("retokenized"));
    Path tokenizer = dir.resolve("tokenizer.json");
    Files.writeString(tokenizer, Files.readString(tokenizer).replace("\"dog\"", "\"hog\""));

    List<String> differences =
        ModelFingerprint.of(TestModels.tinyDir()).differences(ModelFingerprint.of(dir));

    assertEquals(1, differences.size(), differences.toString());
    assertTrue(differences.get(0).startsWith("tokenizer (sha256 "), differences.get(0));
  }

  @Test
  void aDirectoryWithoutWeightsIsAClearError() throws IOException {
    Path dir = copy(TestModels.tinyDir(), tmp.resolve("no-weights"));
    Files.delete(dir.resolve("model.safetensors"));

    UncheckedIOException e =
        assertThrows(UncheckedIOException.class, () -> ModelFingerprint.of(dir));
    assertTrue(e.getMessage().contains("no *.safetensors file in " + dir), e.getMessage());
  }
}

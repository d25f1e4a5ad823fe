package dev.ncalign.lm.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.lm.model.TestModels;
import dev.ncalign.lm.model.WeightDType;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class Sha256AndTreesTest {

  @Test
  void knownDigestsOfBytesAndFiles() throws Exception {
    // FIPS 180-2 test vector.
    String abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    assertEquals(abc, Sha256.hex("abc".getBytes(StandardCharsets.US_ASCII)));
    Path file = TestModels.tempDir("sha").resolve("abc");
    Files.writeString(file, "abc");
    assertEquals(abc, Sha256.hex(file));
  }

  @Test
  void aStreamedModelIsDigestedWithoutKeepingIt() {
    try (CausalLm lm = TestModels.loadTiny()) {
      ByteArrayOutputStream kept = new ByteArrayOutputStream();
      lm.writeSafetensors(kept, WeightDType.BF16);
      Sha256.Summary summary = Sha256.of(out -> lm.writeSafetensors(out, WeightDType.BF16));
      assertEquals(Sha256.hex(kept.toByteArray()), summary.hex());
      assertEquals(kept.size(), summary.bytes());
      assertEquals(lm.safetensorsSize(WeightDType.BF16), summary.bytes());
    }
  }

  @Test
  void deletesATreeAndIgnoresAMissingOne() throws Exception {
    Path root = TestModels.tempDir("tree");
    Files.createDirectories(root.resolve("a/b"));
    Files.writeString(root.resolve("a/b/c.txt"), "x");
    Files.writeString(root.resolve("d.txt"), "y");
    DirectoryTrees.delete(root);
    assertFalse(Files.exists(root));
    DirectoryTrees.delete(root);
  }
}

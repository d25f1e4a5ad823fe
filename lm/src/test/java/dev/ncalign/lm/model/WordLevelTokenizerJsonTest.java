package dev.ncalign.lm.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WordLevelTokenizerJsonTest {

  @Test
  void framesTextsWithBosAndOptionallyEos(@TempDir Path dir) throws Exception {
    List<String> vocabulary = List.of("<pad>", "<unk>", "<bos>", "<eos>", "a", "b");
    assertArrayEquals(new long[] {2, 4, 3}, encode(dir, vocabulary, true, "a", null));
    assertArrayEquals(new long[] {2, 4, 3, 5, 3}, encode(dir, vocabulary, true, "a", "b"));
    assertArrayEquals(new long[] {2, 4, 1}, encode(dir, vocabulary, false, "A zzz", null));
    assertArrayEquals(new long[] {2, 4, 5}, encode(dir, vocabulary, false, "a", "b"));
  }

  @Test
  void refusesAFramingTokenThatIsNotSpecial() {
    List<String> noEos = List.of("<pad>", "<unk>", "<bos>", "a");
    assertThrows(
        IllegalArgumentException.class, () -> WordLevelTokenizerJson.build(noEos, 3, true));
  }

  private static long[] encode(
      Path dir, List<String> vocabulary, boolean eos, String first, String second)
      throws Exception {
    Path file = dir.resolve("tokenizer-" + eos + ".json");
    new ObjectMapper().writeValue(file.toFile(), WordLevelTokenizerJson.build(vocabulary, 4, eos));
    try (HuggingFaceTokenizer tokenizer =
        HuggingFaceTokenizer.newInstance(file, Map.of("addSpecialTokens", "true"))) {
      return second == null
          ? tokenizer.encode(first).getIds()
          : tokenizer.encode(first, second).getIds();
    }
  }
}

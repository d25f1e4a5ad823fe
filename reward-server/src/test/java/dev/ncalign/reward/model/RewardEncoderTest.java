package dev.ncalign.reward.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RewardEncoderTest {

  /** Ids: <pad>=0 <unk>=1 <bos>=2 <eos>=3, then a=4 b=5 c=6 d=7 e=8 f=9 ":"=10. */
  /** The words of the tokenizer resource, ids 4.. after {@code <pad> <unk> <bos> <eos>}. */
  private static final List<String> WORDS = List.of("a", "b", "c", "d", "e", "f", ":");

  @TempDir static Path tmp;
  private static Path tokenizer;

  @BeforeAll
  static void writeTokenizer() throws Exception {
    tokenizer = tmp.resolve("tokenizer.json");
    TinyOnnxModels.copyTokenizer("words-a-to-f-colon.json", tokenizer);
  }

  @Test
  void templateFillsPromptAndResponseOnce() throws Exception {
    try (RewardEncoder encoder =
        RewardEncoder.load(tokenizer, InputFormat.template("{prompt} : {response}"), 16)) {
      EncodedInput input = encoder.encode("A b", "c");
      assertArrayEquals(new long[] {2, 4, 5, 10, 6, 3}, input.inputIds());
      assertFalse(input.truncated());
      // Placeholder text inside the prompt is data ("{", "response", "}": three unknown tokens),
      // not a placeholder.
      assertArrayEquals(
          new long[] {2, 1, 1, 1, 10, 6, 3}, encoder.encode("{response}", "c").inputIds());
    }
  }

  @Test
  void promptLosesTokensFromTheLeftFirst() throws Exception {
    try (RewardEncoder encoder =
        RewardEncoder.load(tokenizer, InputFormat.template("{prompt} {response}"), 6)) {
      EncodedInput input = encoder.encode("a b c d e", "f f");
      // <bos> d e f f <eos>: the two prompt tokens nearest the response survive.
      assertArrayEquals(new long[] {2, 7, 8, 9, 9, 3}, input.inputIds());
      assertTrue(input.truncated());
    }
  }

  @Test
  void aResponseTooLongOnItsOwnKeepsItsBeginning() throws Exception {
    try (RewardEncoder encoder = RewardEncoder.load(tokenizer, InputFormat.pair(), 6)) {
      EncodedInput input = encoder.encode("a b", "c d e f c d");
      // Pair framing <bos> <eos> c d e <eos>: empty prompt, response cut from the right.
      assertArrayEquals(new long[] {2, 3, 6, 7, 8, 3}, input.inputIds());
      assertArrayEquals(new long[] {0, 0, 1, 1, 1, 1}, input.tokenTypeIds());
      assertTrue(input.truncated());
    }
  }

  @Test
  void rejectsTemplatesWithoutResponseAndLengthsTooShortForTheFraming() {
    assertThrows(IllegalArgumentException.class, () -> InputFormat.template("{prompt} only"));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> RewardEncoder.load(tokenizer, InputFormat.pair(), 2));
    assertTrue(e.getMessage().contains("max_length 2"), e.getMessage());
  }
}

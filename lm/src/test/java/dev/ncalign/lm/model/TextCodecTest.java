package dev.ncalign.lm.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Text in, ids out the HF way: BOS from the tokenizer's post-processor on prompts only. */
class TextCodecTest {

  @Test
  void promptGetsBosResponseDoesNot() {
    try (CausalLm lm = TestModels.loadTiny()) {
      TextCodec codec = lm.codec();
      int[] prompt = codec.encodePrompt("The cat sat");
      int[] response = codec.encodeResponse("on the MAT.");
      assertEquals(1, prompt[0], "BOS first");
      assertEquals(4, prompt.length);
      assertEquals(4, response.length);
      assertEquals("on the mat .", codec.decode(response));
      assertArrayEquals(new int[] {1}, codec.encodePrompt(""), "an empty prompt is just BOS");
      assertEquals(2, codec.eosId());
      assertEquals(0, codec.padId());
      assertEquals(
          "the cat",
          codec.decode(new int[] {1, prompt[1], prompt[2], 2}),
          "special tokens are skipped");
      assertEquals(3, codec.encodeResponse("zebra")[0], "unknown words map to <unk>");
    }
  }

  @Test
  void longTextIsNotTruncated() {
    try (CausalLm lm = TestModels.loadTiny()) {
      String text = "cat ".repeat(700);
      assertEquals(700, lm.codec().encodeResponse(text).length);
    }
  }
}

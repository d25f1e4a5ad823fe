package dev.ncalign.reward.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A decoder reward model finds the end of each row by {@code config.pad_token_id}, not by the
 * attention mask, so a row's reward may not depend on what it was batched with.
 */
class DecoderRewardPaddingTest {

  /** Like Llama and Qwen reward models: padding with the eos id ({@code <eos>} is id 3 here). */
  private static final long PAD_TOKEN_ID = 3;

  @Test
  void rewardsBatchedEqualRewardsOneByOne(@TempDir Path dir) throws Exception {
    Path model = TinyOnnxModels.decoderStyle(dir, PAD_TOKEN_ID);
    List<String> responses = List.of("a", "a b c d a b", "d c");
    try (RewardEncoder encoder =
            RewardEncoder.load(
                model.resolve("tokenizer.json"), InputFormat.template("{prompt} {response}"), 32);
        OnnxRewardModel onnx = OnnxRewardModel.load(model, 0)) {
      assertEquals(PAD_TOKEN_ID, encoder.padId(), "the pad id is config.json's pad_token_id");
      List<EncodedInput> inputs =
          responses.stream().map(response -> encoder.encode("b", response)).toList();
      float[] oneByOne = new float[inputs.size()];
      for (int i = 0; i < inputs.size(); i++) {
        oneByOne[i] = onnx.score(PaddedBatch.of(List.of(inputs.get(i)), encoder.padId()))[0];
      }
      float[] batched = onnx.score(PaddedBatch.of(inputs, encoder.padId()));
      assertArrayEquals(oneByOne, batched);
      // What padding with tokenizer.json's id (0) did: the short rows' rewards change in a batch.
      float[] misPadded = onnx.score(PaddedBatch.of(inputs, 0));
      assertFalse(Arrays.equals(oneByOne, misPadded), Arrays.toString(misPadded));
    }
  }
}

package dev.ncalign.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ncalign.demo.ReviewCorpus;
import dev.ncalign.lm.model.WordLevelTokenizerJson;
import dev.ncalign.reward.model.EncodedInput;
import dev.ncalign.reward.model.OnnxRewardModel;
import dev.ncalign.reward.model.PaddedBatch;
import dev.ncalign.reward.model.RewardEncoder;
import dev.ncalign.reward.model.RewardModelConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RewardDecoderModelTest {

  @Test
  void servesLikeADecoderRewardModelAndPaddingChangesNoReward(@TempDir Path dir) throws Exception {
    List<String> vocabulary = new ArrayList<>(List.of("<pad>", "<unk>", "<bos>", "<eos>"));
    vocabulary.addAll(ReviewCorpus.vocabulary());
    Path tokenizer = dir.resolve("source-tokenizer.json");
    new ObjectMapper()
        .writeValue(tokenizer.toFile(), WordLevelTokenizerJson.build(vocabulary, 4, true));
    Path model =
        RewardDecoderModel.write(
            dir.resolve("model"), tokenizer, new RewardDecoderModel.Spec(32, 4, 64, 2), 3);

    RewardModelConfig config = RewardModelConfig.read(model).orElseThrow();
    List<String> responses =
        List.of("it works", "the battery is great and i love this camera .", "terrible");
    try (RewardEncoder encoder =
            RewardEncoder.load(
                model.resolve("tokenizer.json"), config.inputFormat(), config.maxLength());
        OnnxRewardModel onnx = OnnxRewardModel.load(model, config.labelIndex())) {
      assertEquals(RewardDecoderModel.PAD_ID, encoder.padId(), "pad id from config.json");
      assertEquals(List.of("input_ids", "attention_mask"), onnx.signature().inputs());
      List<EncodedInput> inputs =
          responses.stream().map(r -> encoder.encode("review of the camera :", r)).toList();
      float[] batched = onnx.score(PaddedBatch.of(inputs, encoder.padId()));
      assertEquals(responses.size(), batched.length);
      for (int i = 0; i < inputs.size(); i++) {
        float alone = onnx.score(PaddedBatch.of(List.of(inputs.get(i)), encoder.padId()))[0];
        assertTrue(Float.isFinite(alone), "finite reward");
        assertEquals(alone, batched[i], 1e-4f, "row " + i + " padded in a batch");
      }
      assertNotEquals(batched[0], batched[1], "rewards depend on the text");
      assertNotEquals(batched[0], batched[2], "rewards depend on the text");
    }
  }
}

package dev.ncalign.reward.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxRewardModelTest {

  @TempDir Path tmp;

  @Test
  void rejectsAnInputItCannotFeedByName() throws Exception {
    Path dir =
        TinyOnnxModels.write(
            tmp,
            inputs("input_ids", DataType.INT64, "pixel_values", DataType.INT64),
            "logits",
            false);
    assertLoadFails(dir, 0, "model input 'pixel_values' is not supported");
  }

  @Test
  void rejectsAnInputOfTheWrongType() throws Exception {
    Path dir = TinyOnnxModels.write(tmp, inputs("input_ids", DataType.INT32), "logits", false);
    assertLoadFails(dir, 0, "model input 'input_ids' is int32");
  }

  @Test
  void rejectsAGraphWithoutLogits() throws Exception {
    Path dir = TinyOnnxModels.write(tmp, inputs("input_ids", DataType.INT64), "scores", false);
    assertLoadFails(dir, 0, "model has no output 'logits' (outputs: [scores])");
  }

  @Test
  void rejectsALabelIndexOutsideTheLogitsColumns() throws Exception {
    Path dir = TinyOnnxModels.write(tmp, inputs("input_ids", DataType.INT64), "logits", false);
    // ONNX Runtime infers logits [batch, 2] from the graph, so this fails at load, not on the first
    // call.
    assertLoadFails(dir, 2, "label index 2 is out of range for output 'logits' with 2 columns");
  }

  @Test
  void missingModelFileIsNamed() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> OnnxRewardModel.load(tmp, 0));
    assertTrue(e.getMessage().startsWith("no model.onnx in "), e.getMessage());
  }

  @Test
  void feedsTokenTypeIdsAndPicksTheLabelColumn() throws Exception {
    Path dir =
        TinyOnnxModels.write(
            tmp,
            inputs(
                "input_ids",
                DataType.INT64,
                "attention_mask",
                DataType.INT64,
                "token_type_ids",
                DataType.INT64),
            "logits",
            false);
    try (OnnxRewardModel model = OnnxRewardModel.load(dir, 1);
        RewardEncoder encoder =
            RewardEncoder.load(dir.resolve("tokenizer.json"), InputFormat.pair(), 16)) {
      assertEquals(
          List.of("input_ids", "attention_mask", "token_type_ids"), model.signature().inputs());
      EncodedInput pair = encoder.encode("a", "b c");
      // <bos>=2 a=4 <eos>=3 b=5 c=6 <eos>=3; the second segment has type id 1.
      assertArrayEquals(new long[] {2, 4, 3, 5, 6, 3}, pair.inputIds());
      assertArrayEquals(new long[] {0, 0, 0, 1, 1, 1}, pair.tokenTypeIds());
      EncodedInput single = encoder.encode("", "d");
      float[] rewards = model.score(PaddedBatch.of(List.of(pair, single), encoder.padId()));
      // Column 1 is -sum(ids); padding ids are 0 so they add nothing.
      assertArrayEquals(new float[] {-23f, -(2 + 3 + 7 + 3)}, rewards);
    }
  }

  private static void assertLoadFails(Path dir, int labelIndex, String message) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> OnnxRewardModel.load(dir, labelIndex));
    assertTrue(e.getMessage().startsWith(message), e.getMessage());
  }

  private static Map<String, DataType> inputs(Object... namesAndTypes) {
    Map<String, DataType> inputs = new LinkedHashMap<>();
    for (int i = 0; i < namesAndTypes.length; i += 2) {
      inputs.put((String) namesAndTypes[i], (DataType) namesAndTypes[i + 1]);
    }
    return inputs;
  }
}

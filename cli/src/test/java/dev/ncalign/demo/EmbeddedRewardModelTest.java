package dev.ncalign.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.ncalign.demo.LabeledReviews.Example;
import dev.ncalign.demo.LabeledReviews.Kind;
import dev.ncalign.reward.model.EncodedInput;
import dev.ncalign.reward.model.OnnxRewardModel;
import dev.ncalign.reward.model.PaddedBatch;
import dev.ncalign.reward.model.RewardEncoder;
import dev.ncalign.reward.model.RewardModelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class EmbeddedRewardModelTest {

  private static final long SEED = 7;
  private static final Path DIR = build();

  private static Path build() {
    try {
      return EmbeddedRewardModelBuilder.build(Path.of("target", "embedded-reward-model"), SEED);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void loadsInOnnxRuntimeWithHuggingFaceNames() throws Exception {
    try (OnnxRewardModel model = OnnxRewardModel.load(DIR, 0)) {
      assertEquals(List.of("input_ids", "attention_mask"), model.signature().inputs());
      assertEquals(List.of("logits"), model.signature().outputs());
      assertEquals(64, model.sha256().length());
    }
    RewardModelConfig config = RewardModelConfig.read(DIR).orElseThrow();
    assertEquals(new RewardModelConfig("{prompt} {response}", 0, 64), config);
  }

  @Test
  void tokenizerCoversTheWholeCorpusVocabulary() throws Exception {
    try (RewardEncoder encoder =
        RewardEncoder.load(
            DIR.resolve("tokenizer.json"),
            RewardModelConfig.read(DIR).orElseThrow().inputFormat(),
            64)) {
      List<String> words = ReviewCorpus.vocabulary();
      for (int i = 0; i < words.size(); i++) {
        long[] ids = encoder.encode("", words.get(i)).inputIds();
        // <bos> word <eos>; the word's id is its vocabulary position after the four special tokens.
        assertEquals(
            List.of(2L, (long) i + 4, 3L), Arrays.stream(ids).boxed().toList(), words.get(i));
      }
    }
  }

  @Test
  void onnxScoresEqualDjlForwardOnTheFileWeights() throws Exception {
    List<Example> examples = LabeledReviews.balanced(new Random(11), 6);
    try (RewardEncoder encoder =
            RewardEncoder.load(
                DIR.resolve("tokenizer.json"),
                RewardModelConfig.read(DIR).orElseThrow().inputFormat(),
                64);
        OnnxRewardModel model = OnnxRewardModel.load(DIR, 0);
        NDManager manager = NDManager.newBaseManager()) {
      List<EncodedInput> inputs =
          examples.stream().map(e -> encoder.encode(e.prompt(), e.response())).toList();
      PaddedBatch batch = PaddedBatch.of(inputs, encoder.padId());
      float[] onnx = model.score(batch);

      RewardNet net = new RewardNet(RewardNetOnnx.readWeights(DIR.resolve("model.onnx"), manager));
      Shape shape = new Shape(batch.shape());
      float[] djl =
          net.forward(
                  manager.create(batch.inputIds(), shape),
                  manager.create(batch.attentionMask(), shape))
              .toFloatArray();

      assertEquals(examples.size(), onnx.length);
      for (int i = 0; i < onnx.length; i++) {
        assertEquals(djl[i], onnx[i], 1e-4, "example " + i);
      }
    }
  }

  @Test
  void writingTheReadWeightsGivesTheFileBackWhateverOrderTheyArriveIn() throws Exception {
    Path model = DIR.resolve("model.onnx");
    try (NDManager manager = NDManager.newBaseManager()) {
      Map<String, NDArray> read = RewardNetOnnx.readWeights(model, manager);
      List<String> reversedNames = new ArrayList<>(read.keySet());
      Collections.reverse(reversedNames);
      Map<String, NDArray> reversed = new LinkedHashMap<>();
      reversedNames.forEach(name -> reversed.put(name, read.get(name)));

      RewardNet net = new RewardNet(reversed);
      assertEquals(RewardNet.NAMES, List.copyOf(net.weights().keySet()));
      Path written = Files.createTempFile("reward", ".onnx");
      try {
        RewardNetOnnx.write(net, written);
        assertArrayEquals(Files.readAllBytes(model), Files.readAllBytes(written));
      } finally {
        Files.delete(written);
      }
    }
  }

  @Test
  void aMissingWeightIsNamed() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Map<String, NDArray> weights =
          new LinkedHashMap<>(RewardNet.initialise(manager, 10, 4, 3, 2, 1).weights());
      weights.remove(RewardNet.CONV_BIAS);
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> new RewardNet(weights));
      assertTrue(e.getMessage().contains(RewardNet.CONV_BIAS), e.getMessage());
    }
  }

  @Test
  void ranksHeldOutTextsAsIntended() throws Exception {
    RankingReport report = EmbeddedRewardModelBuilder.evaluate(DIR, 1234, 100);
    assertTrue(report.pairwiseAccuracy() >= 0.95, report.summary());
    assertTrue(report.worstKindPair().getValue() >= 0.8, report.summary());
    Map<Kind, Double> mean = report.meanReward();
    assertTrue(
        mean.get(Kind.POSITIVE) > mean.get(Kind.MIXED)
            && mean.get(Kind.MIXED) > mean.get(Kind.NEGATIVE),
        report.summary());
    for (Kind kind : Kind.values()) {
      if (kind.rank() == 0) {
        assertTrue(report.accuracyByKindPair().get("POSITIVE>" + kind) >= 0.95, report.summary());
        assertTrue(mean.get(kind) <= mean.get(Kind.NEGATIVE), report.summary());
      }
    }
  }

  @Test
  void rebuildingWithTheSameSeedKeepsTheFile() throws Exception {
    Path model = DIR.resolve("model.onnx");
    byte[] before = Files.readAllBytes(model);
    long modified = Files.getLastModifiedTime(model).toMillis();
    EmbeddedRewardModelBuilder.build(DIR, SEED);
    assertEquals(modified, Files.getLastModifiedTime(model).toMillis());
    assertTrue(Arrays.equals(before, Files.readAllBytes(model)));
  }
}

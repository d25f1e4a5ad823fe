package dev.ncalign.reward.serving;

import ai.onnxruntime.OrtException;
import dev.ncalign.reward.metrics.RewardMetrics;
import dev.ncalign.reward.model.EncodedInput;
import dev.ncalign.reward.model.InputFormat;
import dev.ncalign.reward.model.OnnxRewardModel;
import dev.ncalign.reward.model.PaddedBatch;
import dev.ncalign.reward.model.RewardEncoder;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Scores (prompt, response) pairs: encodes them on the caller's thread, then lets the {@link
 * DynamicBatcher} merge them with other callers' pairs into model runs. Knows nothing of gRPC.
 */
public final class RewardScorer implements AutoCloseable {

  /** A pair to score. */
  public record Item(String prompt, String response) {}

  /** Rewards and truncation flags, one per item in request order. */
  public record Scores(float[] rewards, boolean[] truncated) {}

  private final Path modelDir;
  private final OnnxRewardModel model;
  private final RewardEncoder encoder;
  private final DynamicBatcher<EncodedInput, Float> batcher;
  private final int maxBatchSize;
  private final RewardMetrics metrics;
  private final AtomicLong nonFinite = new AtomicLong();

  private RewardScorer(
      Path modelDir,
      OnnxRewardModel model,
      RewardEncoder encoder,
      int maxBatchSize,
      Duration maxWait,
      RewardMetrics metrics) {
    this.modelDir = modelDir;
    this.model = model;
    this.encoder = encoder;
    this.maxBatchSize = maxBatchSize;
    this.metrics = metrics;
    this.batcher =
        new DynamicBatcher<>(maxBatchSize, maxWait, EncodedInput::length, this::runBatch);
    metrics.watch(batcher, nonFinite);
  }

  /**
   * Loads the model and tokenizer of {@code modelDir}; every model run is recorded in {@code
   * metrics}.
   *
   * @throws IllegalArgumentException if the model's signature or the settings cannot be served
   */
  public static RewardScorer open(
      Path modelDir,
      InputFormat format,
      int labelIndex,
      int maxLength,
      int maxBatchSize,
      Duration maxWait,
      RewardMetrics metrics)
      throws IOException, OrtException {
    OnnxRewardModel model = OnnxRewardModel.load(modelDir, labelIndex);
    try {
      RewardEncoder encoder =
          RewardEncoder.load(modelDir.resolve("tokenizer.json"), format, maxLength);
      return new RewardScorer(modelDir, model, encoder, maxBatchSize, maxWait, metrics);
    } catch (IOException | RuntimeException e) {
      model.close();
      throw e;
    }
  }

  /** Scores {@code items}; completes when every item's batch has run. */
  public CompletableFuture<Scores> score(List<Item> items) {
    List<EncodedInput> inputs = new ArrayList<>(items.size());
    boolean[] truncated = new boolean[items.size()];
    for (int i = 0; i < items.size(); i++) {
      EncodedInput input = encoder.encode(items.get(i).prompt(), items.get(i).response());
      truncated[i] = input.truncated();
      inputs.add(input);
    }
    return batcher
        .submit(inputs)
        .thenApply(
            results -> {
              float[] rewards = new float[results.size()];
              for (int i = 0; i < rewards.length; i++) {
                rewards[i] = results.get(i);
              }
              return new Scores(rewards, truncated);
            });
  }

  private List<Float> runBatch(List<EncodedInput> batch) throws OrtException {
    PaddedBatch padded = PaddedBatch.of(batch, encoder.padId());
    long start = System.nanoTime();
    float[] rewards = model.score(padded);
    long nanos = System.nanoTime() - start;
    List<Float> results = new ArrayList<>(rewards.length);
    for (float reward : rewards) {
      if (!Float.isFinite(reward)) {
        nonFinite.incrementAndGet();
      }
      results.add(reward);
    }
    metrics.modelRan(nanos, rewards);
    return results;
  }

  /** Directory the model was loaded from. */
  public Path modelDir() {
    return modelDir;
  }

  /** The loaded model. */
  public OnnxRewardModel model() {
    return model;
  }

  /** The encoder in use. */
  public RewardEncoder encoder() {
    return encoder;
  }

  /** Largest batch of one model run. */
  public int maxBatchSize() {
    return maxBatchSize;
  }

  /** Non-finite rewards produced since start. */
  public long nonFiniteCount() {
    return nonFinite.get();
  }

  /** Finishes queued work, then releases the model and tokenizer. */
  @Override
  public void close() throws OrtException {
    batcher.close();
    encoder.close();
    model.close();
  }
}

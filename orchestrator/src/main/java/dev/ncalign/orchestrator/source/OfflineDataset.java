package dev.ncalign.orchestrator.source;

import dev.ncalign.lm.model.TextCodec;
import dev.ncalign.orchestrator.train.RewardBatch;
import dev.ncalign.orchestrator.train.ScoredPrompt;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * The offline {@link BatchSource}: a fixed dataset ({@link DatasetFile}) served {@code
 * promptsPerRound} prompts a round, epoch after epoch, each epoch in a fresh order that depends
 * only on the seed and the epoch.
 */
public final class OfflineDataset implements BatchSource {
  private final List<ScoredPrompt> prompts;
  private final int promptsPerRound;
  private final long seed;

  public OfflineDataset(List<ScoredPrompt> prompts, int promptsPerRound, long seed) {
    if (prompts.isEmpty()) {
      throw new IllegalArgumentException("an offline dataset needs at least one prompt");
    }
    this.prompts = List.copyOf(prompts);
    this.promptsPerRound = promptsPerRound;
    this.seed = seed;
  }

  /** Reads {@code file} (see {@link DatasetFile#read}). */
  public static OfflineDataset load(Path file, TextCodec codec, int promptsPerRound, long seed) {
    return new OfflineDataset(DatasetFile.read(file, codec), promptsPerRound, seed);
  }

  /** Prompts in the dataset. */
  public int size() {
    return prompts.size();
  }

  /** Every row, in file order. */
  public List<ScoredPrompt> prompts() {
    return prompts;
  }

  @Override
  public Rollout next(int round) {
    List<ScoredPrompt> batch = new ArrayList<>(promptsPerRound);
    int epoch = -1;
    List<Integer> order = List.of();
    for (long at = (long) (round - 1) * promptsPerRound; batch.size() < promptsPerRound; at++) {
      if (at / prompts.size() != epoch) {
        epoch = (int) (at / prompts.size());
        order = epochOrder(epoch);
      }
      batch.add(prompts.get(order.get((int) (at % prompts.size()))));
    }
    return Rollout.fixed(new RewardBatch(batch));
  }

  private List<Integer> epochOrder(int epoch) {
    List<Integer> order = new ArrayList<>(IntStream.range(0, prompts.size()).boxed().toList());
    Collections.shuffle(order, new Random(seed * 31L + epoch));
    return order;
  }
}

package dev.ncalign.orchestrator.loop;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import dev.ncalign.lm.model.TextCodec;
import dev.ncalign.orchestrator.source.DatasetFile;
import dev.ncalign.orchestrator.source.Rollout;
import dev.ncalign.orchestrator.train.RewardBatch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The rollouts a checkpoint carries when sampling runs ahead ({@code loop.max_staleness} N ≥ 1):
 * after round c, rounds c + 1 .. c + N are already sampled from versions the resumed run can no
 * longer serve, so they are saved beside the weights, as dataset rows (token ids, log-probs, finish
 * reasons, rewards: {@link DatasetFile}) plus an index. A checkpoint without them was written with
 * N = 0.
 */
final class RolloutsAhead {
  static final String DIR = "rollouts-ahead";
  private static final String INDEX = "index.json";
  private static final ObjectMapper JSON =
      new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

  private RolloutsAhead() {}

  /** The index: the staleness they were sampled with and each round's record. */
  record Index(int maxStaleness, List<Entry> rounds) {}

  /** One saved round: its rows' file and what the rows cannot say. */
  record Entry(
      int round,
      String file,
      Long sampledVersion,
      double generateSeconds,
      double scoreSeconds,
      long generatedTokens) {}

  /** Saves {@code ahead} under {@code checkpoint}; with N = 0 (nothing ahead) writes nothing. */
  static void save(Path checkpoint, int maxStaleness, Map<Integer, Rollout> ahead) {
    if (maxStaleness == 0) {
      return;
    }
    Path dir = checkpoint.resolve(DIR);
    try {
      Files.createDirectories(dir);
      List<Entry> entries =
          ahead.entrySet().stream()
              .map(
                  e -> {
                    String file = "round-%04d.jsonl".formatted(e.getKey());
                    Rollout r = e.getValue();
                    DatasetFile.write(dir.resolve(file), r.batch().prompts());
                    return new Entry(
                        e.getKey(),
                        file,
                        r.sampledVersion(),
                        r.generateSeconds(),
                        r.scoreSeconds(),
                        r.generatedTokens());
                  })
              .toList();
      JSON.writeValue(dir.resolve(INDEX).toFile(), new Index(maxStaleness, entries));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot save the rollouts sampled ahead in " + dir, e);
    }
  }

  /**
   * The rollouts saved under {@code checkpoint}, by round.
   *
   * @throws IllegalStateException if they were sampled with another {@code loop.max_staleness} than
   *     {@code maxStaleness}: the resumed run would train on other versions' samples
   */
  static Map<Integer, Rollout> load(Path checkpoint, int maxStaleness, TextCodec codec) {
    Path dir = checkpoint.resolve(DIR);
    Map<Integer, Rollout> ahead = new TreeMap<>();
    int saved = 0;
    if (Files.exists(dir.resolve(INDEX))) {
      try {
        Index index = JSON.readValue(dir.resolve(INDEX).toFile(), Index.class);
        saved = index.maxStaleness();
        for (Entry e : index.rounds()) {
          ahead.put(
              e.round(),
              new Rollout(
                  new RewardBatch(DatasetFile.read(dir.resolve(e.file()), codec)),
                  e.sampledVersion(),
                  e.generateSeconds(),
                  e.scoreSeconds(),
                  e.generatedTokens()));
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the rollouts sampled ahead in " + dir, e);
      }
    }
    if (saved != maxStaleness) {
      throw new IllegalStateException(
          "checkpoint "
              + checkpoint
              + " was written with loop.max_staleness "
              + saved
              + ", the config says "
              + maxStaleness
              + ": resume with "
              + saved
              + " (the rounds after it were sampled from versions that depend on it)");
    }
    return ahead;
  }
}

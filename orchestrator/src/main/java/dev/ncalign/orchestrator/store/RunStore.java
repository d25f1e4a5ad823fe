package dev.ncalign.orchestrator.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.ncalign.lm.io.DirectoryTrees;
import dev.ncalign.orchestrator.config.ConfigLoader;
import dev.ncalign.orchestrator.config.RunConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * A run directory:
 *
 * <pre>
 *   config.yaml                  the effective configuration
 *   metrics.jsonl                one {@link RoundMetrics} per line
 *   samples.jsonl                one {@link SampleRecord} per line
 *   checkpoints/round-0005/      a model directory per checkpoint, written by the caller
 *   state.json                   {@link RunState}: the last round that is completely on disk
 * </pre>
 *
 * A round is complete once {@link #markCheckpoint} returns; until then its rows are provisional,
 * and {@link #resume()} drops them so a resumed run repeats nothing. Every write is fsynced before
 * returning. Methods are synchronized so a dashboard thread can read while the loop writes.
 */
public final class RunStore {

  private static final ObjectMapper JSON =
      JsonMapper.builder()
          .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
          .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
          .build();

  private final Path dir;
  private final JsonLines metrics;
  private final JsonLines samples;

  private RunStore(Path dir) {
    this.dir = dir;
    this.metrics = new JsonLines(dir.resolve("metrics.jsonl"), JSON);
    this.samples = new JsonLines(dir.resolve("samples.jsonl"), JSON);
  }

  /**
   * Opens the run directory, creating it when missing. Existing content is kept (see {@link
   * #resume()}).
   */
  public static RunStore open(Path dir) {
    try {
      Files.createDirectories(dir.resolve("checkpoints"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create run directory " + dir, e);
    }
    return new RunStore(dir);
  }

  public Path dir() {
    return dir;
  }

  /** Where the configuration copy lives; load it with {@link ConfigLoader#load} to resume a run. */
  public Path configFile() {
    return dir.resolve("config.yaml");
  }

  /** Writes the effective configuration, every field spelled out. */
  public synchronized void writeConfig(RunConfig config) {
    AtomicFiles.write(configFile(), ConfigLoader.toYaml(config).getBytes(StandardCharsets.UTF_8));
  }

  public synchronized void appendMetrics(RoundMetrics row) {
    metrics.append(List.of(row));
  }

  public synchronized void appendSamples(List<SampleRecord> rows) {
    if (!rows.isEmpty()) {
      samples.append(rows);
    }
  }

  /** Every metrics row written so far, in order. */
  public synchronized List<RoundMetrics> metrics() {
    return metrics.read(RoundMetrics.class);
  }

  /** Every sample row written so far, in order. */
  public synchronized List<SampleRecord> samples() {
    return samples.read(SampleRecord.class);
  }

  /** The checkpoint directory of a round, created empty if missing; write the model into it. */
  public Path checkpointDir(int round) {
    Path checkpoint = dir.resolve(checkpointName(round));
    try {
      Files.createDirectories(checkpoint);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + checkpoint, e);
    }
    return checkpoint;
  }

  /**
   * Declares {@code round} complete: its metrics and samples are appended and its checkpoint
   * directory fully written. Atomically replaces {@code state.json}.
   */
  public synchronized RunState markCheckpoint(int round, long liveVersion, long step) {
    Path checkpoint = dir.resolve(checkpointName(round));
    if (!Files.isDirectory(checkpoint)) {
      throw new IllegalStateException(
          "no checkpoint written for round " + round + ": " + checkpoint);
    }
    RunState state = new RunState(round, liveVersion, step, checkpointName(round));
    try {
      AtomicFiles.write(
          stateFile(), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(state));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write " + state, e);
    }
    return state;
  }

  /** The checkpoint directory a state points to. */
  public Path checkpointPath(RunState state) {
    return dir.resolve(state.checkpoint());
  }

  /**
   * The last completed round, or empty for a run that never completed one. Either way, metrics and
   * sample rows of later rounds and their checkpoint directories (left by a crash) are removed, so
   * the caller continues at {@code lastCompletedRound + 1} (or from the start) and repeats nothing.
   */
  public synchronized Optional<RunState> resume() {
    Optional<RunState> state = readState();
    Predicate<JsonNode> completed =
        row ->
            state.isPresent()
                && row.path("round").asInt(Integer.MAX_VALUE) <= state.get().lastCompletedRound();
    metrics.retain(completed);
    samples.retain(completed);
    deleteCheckpointsAfter(state.map(RunState::lastCompletedRound).orElse(Integer.MIN_VALUE));
    return state;
  }

  private Optional<RunState> readState() {
    try {
      return Optional.of(JSON.readValue(Files.readAllBytes(stateFile()), RunState.class));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + stateFile(), e);
    }
  }

  private void deleteCheckpointsAfter(int lastRound) {
    try (Stream<Path> checkpoints = Files.list(dir.resolve("checkpoints"))) {
      for (Path checkpoint : checkpoints.toList()) {
        String name = checkpoint.getFileName().toString();
        if (name.matches("round-\\d+") && Integer.parseInt(name.substring(6)) > lastRound) {
          DirectoryTrees.delete(checkpoint);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot clean " + dir.resolve("checkpoints"), e);
    }
  }

  private Path stateFile() {
    return dir.resolve("state.json");
  }

  private static String checkpointName(int round) {
    return String.format("checkpoints/round-%04d", round);
  }
}

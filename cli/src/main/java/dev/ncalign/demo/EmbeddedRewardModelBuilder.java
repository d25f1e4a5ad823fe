package dev.ncalign.demo;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ncalign.demo.LabeledReviews.Example;
import dev.ncalign.reward.model.EncodedInput;
import dev.ncalign.reward.model.OnnxRewardModel;
import dev.ncalign.reward.model.PaddedBatch;
import dev.ncalign.reward.model.RewardEncoder;
import dev.ncalign.reward.model.RewardModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Builds the embedded reward model for the review task: a word-level {@code tokenizer.json} over
 * {@link ReviewCorpus#vocabulary()}, a {@link RewardNet} fitted in DJL on {@link LabeledReviews},
 * written as {@code model.onnx} with the Hugging Face names, and a {@code reward_config.json}. The
 * directory is then served like any Hugging Face export.
 */
@Command(
    name = "build-embedded-reward-model",
    mixinStandardHelpOptions = true,
    description = "Fit the embedded review reward model and write it as an ONNX model directory.")
public final class EmbeddedRewardModelBuilder implements Callable<Integer> {

  /** Input template: the prompt gives context, the response is what is judged. */
  public static final String TEMPLATE = "{prompt} {response}";

  /** Longest input in tokens; fits every text {@link ReviewCorpus} emits, run-ons included. */
  public static final int MAX_LENGTH = 64;

  /** The model has one output column. */
  public static final int LABEL_INDEX = 0;

  /**
   * Bump when the data, architecture or training changes, so {@link #build} rebuilds old
   * directories.
   */
  static final int FORMAT_VERSION = 4;

  /** Labelled examples the model is fitted on. */
  static final int TRAINING_EXAMPLES = 8000;

  private static final int SCORING_BATCH = 64;

  @Option(names = "--out", required = true, description = "Directory to write the model into.")
  private Path out;

  @Option(
      names = "--seed",
      defaultValue = "7",
      description = "Seed of data, initialisation and order (default ${DEFAULT-VALUE}).")
  private long seed;

  @Option(
      names = "--eval-seed",
      defaultValue = "1234",
      description = "Seed of the held-out evaluation set (default ${DEFAULT-VALUE}).")
  private long evalSeed;

  @Option(
      names = "--eval-per-kind",
      defaultValue = "200",
      description = "Held-out examples per kind (default ${DEFAULT-VALUE}).")
  private int evalPerKind;

  /**
   * Builds the model into {@code dir} unless it already holds one built by this version with this
   * seed; returns {@code dir}.
   */
  public static Path build(Path dir, long seed) throws IOException {
    return build(dir, seed, TRAINING_EXAMPLES, RewardNetTrainer.Settings.defaults().epochs());
  }

  /**
   * {@link #build(Path, long)} fitted on {@code examples} examples for {@code epochs} passes; both
   * are recorded in the config, so a directory built with other values is rebuilt.
   */
  static synchronized Path build(Path dir, long seed, int examples, int epochs) throws IOException {
    if (isBuilt(dir, seed, examples, epochs)) {
      return dir;
    }
    Files.createDirectories(dir);
    // The config goes last and marks a complete build; drop a stale one first.
    Files.deleteIfExists(dir.resolve(RewardModelConfig.FILE_NAME));
    Path tokenizer = dir.resolve("tokenizer.json");
    List<String> words = ReviewCorpus.vocabulary();
    ReviewTokenizer.write(tokenizer, words);
    RewardModelConfig config = new RewardModelConfig(TEMPLATE, LABEL_INDEX, MAX_LENGTH);
    List<RewardNetTrainer.Target> data;
    try (RewardEncoder encoder = RewardEncoder.load(tokenizer, config.inputFormat(), MAX_LENGTH)) {
      data =
          LabeledReviews.sample(new Random(seed), examples).stream()
              .map(
                  e ->
                      new RewardNetTrainer.Target(
                          encoder.encode(e.prompt(), e.response()), e.kind().target()))
              .toList();
    }
    Path partial = dir.resolve(OnnxRewardModel.MODEL_FILE + ".partial");
    try (NDManager manager = NDManager.newBaseManager()) {
      RewardNet net =
          RewardNetTrainer.fit(
              manager,
              data,
              ReviewTokenizer.vocabularySize(words),
              RewardNetTrainer.Settings.defaults().withEpochs(epochs),
              seed);
      RewardNetOnnx.write(net, partial);
    }
    Files.move(
        partial,
        dir.resolve(OnnxRewardModel.MODEL_FILE),
        StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
    ObjectNode json = config.toJson();
    json.put("seed", seed);
    json.put("format_version", FORMAT_VERSION);
    json.put("training_examples", examples);
    json.put("epochs", epochs);
    json.put(
        "description",
        "ncalign embedded review reward model; rebuild with EmbeddedRewardModelBuilder");
    RewardModelConfig.write(dir, json);
    return dir;
  }

  /**
   * Scores {@code perKind} held-out examples of every kind with the model in {@code dir}, through
   * ONNX Runtime exactly as the server would.
   */
  public static RankingReport evaluate(Path dir, long evalSeed, int perKind) throws Exception {
    List<Example> examples = LabeledReviews.balanced(new Random(evalSeed), perKind);
    float[] rewards = new float[examples.size()];
    RewardModelConfig config =
        RewardModelConfig.read(dir)
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "no " + RewardModelConfig.FILE_NAME + " in " + dir));
    try (RewardEncoder encoder =
            RewardEncoder.load(
                dir.resolve("tokenizer.json"), config.inputFormat(), config.maxLength());
        OnnxRewardModel model = OnnxRewardModel.load(dir, config.labelIndex())) {
      for (int start = 0; start < examples.size(); start += SCORING_BATCH) {
        List<EncodedInput> inputs =
            examples.subList(start, Math.min(examples.size(), start + SCORING_BATCH)).stream()
                .map(e -> encoder.encode(e.prompt(), e.response()))
                .toList();
        float[] batch = model.score(PaddedBatch.of(inputs, encoder.padId()));
        System.arraycopy(batch, 0, rewards, start, batch.length);
      }
    }
    return RankingReport.of(examples, rewards);
  }

  private static boolean isBuilt(Path dir, long seed, int examples, int epochs) throws IOException {
    if (!Files.isRegularFile(dir.resolve(OnnxRewardModel.MODEL_FILE))
        || !Files.isRegularFile(dir.resolve("tokenizer.json"))) {
      return false;
    }
    Optional<ObjectNode> json = RewardModelConfig.readJson(dir);
    // A config without the budget keys predates them and was built with the defaults.
    return json.isPresent()
        && json.get().path("seed").asLong(~seed) == seed
        && json.get().path("format_version").asInt() == FORMAT_VERSION
        && json.get().path("training_examples").asInt(TRAINING_EXAMPLES) == examples
        && json.get().path("epochs").asInt(RewardNetTrainer.Settings.defaults().epochs()) == epochs;
  }

  @Override
  public Integer call() throws Exception {
    long start = System.nanoTime();
    build(out, seed);
    System.out.printf(
        "model in %s (%.1f s)%n", out.toAbsolutePath(), (System.nanoTime() - start) / 1e9);
    System.out.print(evaluate(out, evalSeed, evalPerKind).summary());
    return 0;
  }

  /** Command-line entry: {@code --out DIR [--seed N]}. */
  public static void main(String[] args) {
    if (System.getProperty("ai.djl.offline") == null) {
      // libtorch comes from the jar on the classpath: never try to download it.
      System.setProperty("ai.djl.offline", "true");
    }
    System.exit(new CommandLine(new EmbeddedRewardModelBuilder()).execute(args));
  }
}

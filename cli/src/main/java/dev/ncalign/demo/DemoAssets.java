package dev.ncalign.demo;

import ai.djl.engine.Engine;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ncalign.lm.io.DirectoryTrees;
import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.lm.model.TextCodec;
import dev.ncalign.lm.model.TinyModelFactory;
import dev.ncalign.lm.model.TinyModelSpec;
import dev.ncalign.orchestrator.train.AdamW;
import dev.ncalign.orchestrator.train.LearningRateSchedule;
import dev.ncalign.orchestrator.train.ScoredPrompt;
import dev.ncalign.orchestrator.train.ScoredResponse;
import dev.ncalign.orchestrator.train.SupervisedFineTuning;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

/**
 * The demo's models, built on this machine and cached: the embedded ONNX reward model, and a tiny
 * base policy fine-tuned (SFT) on synthetic product reviews whose sentiment is a third positive, a
 * third negative and a third mixed, so its samples have real reward spread for NCA to work on.
 */
public final class DemoAssets {
  /**
   * The base policy's shape: 117 k parameters over the review vocabulary, fast on two CPU cores.
   */
  public static final TinyModelSpec POLICY_SPEC = new TinyModelSpec(64, 2, 4, 2, 192, 64);

  private static final long SEED = 2402_05369L;
  private static final int SFT_TOKEN_BUDGET = 1024;
  private static final float SFT_LR = 3e-3f;

  /** Where the two model directories and the prompt file are. */
  public record Paths(Path policyBase, Path reward, Path prompts) {}

  /**
   * How much each model trains: {@link #FULL} for the demo; tests build with a smaller one through
   * the same code.
   *
   * @param rewardExamples labelled reviews the reward model is fitted on
   * @param rewardEpochs passes of the reward fit over them
   * @param sftExamples prompt and review pairs the base policy is fine-tuned on
   * @param sftEpochs passes of the SFT over them
   */
  record Budget(int rewardExamples, int rewardEpochs, int sftExamples, int sftEpochs) {
    Budget {
      if (rewardExamples < 1 || rewardEpochs < 1 || sftExamples < 1 || sftEpochs < 1) {
        throw new IllegalArgumentException("every training budget must be at least 1: " + this);
      }
    }

    static final Budget FULL =
        new Budget(
            EmbeddedRewardModelBuilder.TRAINING_EXAMPLES,
            RewardNetTrainer.Settings.defaults().epochs(),
            6000,
            3);
  }

  private DemoAssets() {}

  /**
   * Builds whatever is missing under {@code root} ({@code policy-base/}, {@code reward/}); reports
   * progress.
   */
  public static Paths ensure(Path root, Consumer<String> progress) {
    return ensure(root, Budget.FULL, progress);
  }

  /** {@link #ensure(Path, Consumer)} with the given training budget. */
  static Paths ensure(Path root, Budget budget, Consumer<String> progress) {
    Paths paths =
        new Paths(
            root.resolve("policy-base"), root.resolve("reward"), root.resolve("prompts.jsonl"));
    try {
      prompts(paths.prompts());
      if (!Files.exists(paths.reward().resolve("model.onnx"))) {
        progress.accept("building the embedded reward model in " + paths.reward());
        EmbeddedRewardModelBuilder.build(
            paths.reward(), SEED, budget.rewardExamples(), budget.rewardEpochs());
      }
      if (!Files.exists(paths.policyBase().resolve("model.safetensors"))) {
        progress.accept(
            "building the base policy (SFT on synthetic reviews) in " + paths.policyBase());
        buildPolicy(paths.policyBase(), budget, progress);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot build the demo assets in " + root, e);
    }
    return paths;
  }

  /**
   * A random tiny model over the review vocabulary, fine-tuned on the SFT corpus; written
   * atomically.
   */
  static void buildPolicy(Path dir, Budget budget, Consumer<String> progress) throws IOException {
    Path work =
        Files.createTempDirectory(
            Files.createDirectories(dir.toAbsolutePath().getParent()), "policy-build");
    Path init =
        TinyModelFactory.write(work.resolve("init"), ReviewCorpus.vocabulary(), POLICY_SPEC, SEED);
    try (CausalLm model = CausalLm.load(init, Engine.getInstance().defaultDevice())) {
      List<ScoredPrompt> corpus = sftCorpus(model.codec(), new Random(SEED), budget.sftExamples());
      int steps = budget.sftEpochs() * (int) Math.ceil(budget.sftExamples() / 40.0);
      try (AdamW optimizer =
          new AdamW(
              model.parameters(), new LearningRateSchedule(SFT_LR, 10, steps, 0.1f), 0f, 1f)) {
        int[] step = {0};
        double loss =
            new SupervisedFineTuning(model, optimizer, SFT_TOKEN_BUDGET, SEED)
                .train(
                    corpus,
                    budget.sftEpochs(),
                    l -> {
                      if (++step[0] % 50 == 0) {
                        progress.accept(
                            String.format("  sft step %d, loss %.3f nats/token", step[0], l));
                      }
                    });
        progress.accept(
            String.format("  sft done: %d steps, last-epoch loss %.3f nats/token", step[0], loss));
      }
      model.save(work.resolve("final"));
    }
    Files.move(work.resolve("final"), dir, StandardCopyOption.ATOMIC_MOVE);
    DirectoryTrees.delete(work);
  }

  /**
   * Writes the review prompts to {@code file} as {@code {"prompt": ...}} lines (atomically) unless
   * it exists.
   */
  public static Path prompts(Path file) throws IOException {
    if (Files.exists(file)) {
      return file;
    }
    Files.createDirectories(file.toAbsolutePath().getParent());
    ObjectMapper json = new ObjectMapper();
    List<String> lines = new ArrayList<>();
    for (String prompt : ReviewCorpus.prompts()) {
      lines.add(json.writeValueAsString(Map.of("prompt", prompt)));
    }
    Path partial = file.resolveSibling(file.getFileName() + ".partial");
    Files.write(partial, lines);
    Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE);
    return file;
  }

  /** Prompt + fluent review pairs, sentiments in equal shares; responses end with eos. */
  public static List<ScoredPrompt> sftCorpus(TextCodec codec, Random random, int count) {
    List<ScoredPrompt> corpus = new ArrayList<>(count);
    ReviewCorpus.Sentiment[] sentiments = ReviewCorpus.Sentiment.values();
    for (int i = 0; i < count; i++) {
      String product = ReviewCorpus.products().get(random.nextInt(ReviewCorpus.products().size()));
      String prompt = ReviewCorpus.prompt(product);
      String response = ReviewCorpus.response(random, product, sentiments[i % sentiments.length]);
      corpus.add(
          new ScoredPrompt(
              prompt,
              codec.encodePrompt(prompt),
              List.of(ScoredResponse.ending(codec, response, 0f))));
    }
    return corpus;
  }
}

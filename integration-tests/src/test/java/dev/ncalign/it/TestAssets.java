package dev.ncalign.it;

import dev.ncalign.demo.DemoAssets;
import dev.ncalign.demo.EmbeddedRewardModelBuilder;
import dev.ncalign.demo.ReviewCorpus;
import dev.ncalign.lm.model.TinyModelFactory;
import dev.ncalign.lm.model.TinyModelSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Models for the end-to-end tests, built once per test JVM under {@code target/it-assets}: a tiny
 * random policy over the review vocabulary (no SFT: the tests check plumbing, not quality) and the
 * embedded reward model.
 */
final class TestAssets {
  private static final Path ROOT = Path.of("target", "it-assets").toAbsolutePath();
  private static Path policy;
  private static Path reward;

  private TestAssets() {}

  static synchronized Path policy() {
    if (policy == null) {
      policy = ROOT.resolve("policy");
      if (!Files.exists(policy.resolve("model.safetensors"))) {
        TinyModelFactory.write(policy, ReviewCorpus.vocabulary(), TinyModelSpec.tiny(), 5);
      }
    }
    return policy;
  }

  static synchronized Path prompts() {
    try {
      return DemoAssets.prompts(ROOT.resolve("prompts.jsonl"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static synchronized Path reward() {
    if (reward == null) {
      try {
        reward = EmbeddedRewardModelBuilder.build(ROOT.resolve("reward"), 5);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return reward;
  }

  /**
   * A demo asset directory ({@code policy-base/}, {@code reward/}, {@code prompts.jsonl}, as {@code
   * DemoAssets.ensure} expects) under {@code parent}, holding these test models instead of the
   * demo's, so that commands built on the demo run on them.
   */
  static Path asDemoAssets(Path parent) {
    try {
      Path assets = Files.createDirectories(parent.resolve("assets"));
      Files.createSymbolicLink(assets.resolve("policy-base"), policy());
      Files.createSymbolicLink(assets.resolve("reward"), reward());
      Files.copy(prompts(), assets.resolve("prompts.jsonl"));
      return assets;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * YAML of a short run on these models in {@code runDir}; {@code extra} is appended (more keys).
   */
  static String config(Path runDir, String mode, int rounds, String extra) {
    return """
        run: {dir: %s, seed: 3, rounds: %d, checkpoint_every: 1}
        mode: %s
        policy: {model: %s}
        reward: {model: %s}
        loss: {type: NCA, beta: 0.1, alpha: 1.0}
        optimizer: {lr: 1.0e-3, warmup_steps: 0, epochs_per_round: 1, minibatch_tokens: 4096}
        sampling: {prompts_per_round: 4, k: 3, max_new_tokens: 8}
        prompts: {file: %s, eval_count: 2, eval_every: 2}
        %s
        """
        .formatted(runDir, rounds, mode, policy(), reward(), prompts(), extra);
  }
}

package dev.ncalign.orchestrator.config;

import dev.ncalign.lm.lora.LoraConfig;
import dev.ncalign.orchestrator.client.ClientOptions;
import dev.ncalign.orchestrator.loss.LossType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * One run, as read from a YAML file by {@link ConfigLoader} (snake_case keys, every section
 * optional, missing keys take the values of {@link #defaults()}). Instances that come out of the
 * loader have passed {@link ConfigValidator#checkValues}; relative paths are relative to the
 * working directory. {@code configs/*.yaml} documents every field.
 */
public record RunConfig(
    Run run,
    Mode mode,
    Service policy,
    Service reward,
    Loss loss,
    Optimizer optimizer,
    Lora lora,
    Sampling sampling,
    Loop loop,
    Prompts prompts,
    Offline offline,
    Clients clients,
    Dashboard dashboard,
    Grid grid) {

  /** Where the run lives and how long it goes. */
  public record Run(Path dir, long seed, int rounds, int checkpointEvery) {}

  /**
   * A served model: either {@code targets} (host:port of running replicas) or, when that is empty,
   * a local server the orchestrator starts on {@code model}.
   */
  public record Service(Path model, List<String> targets) {
    /** True when the orchestrator must start a server itself. */
    public boolean local() {
      return targets.isEmpty();
    }
  }

  /** The alignment objective. */
  public record Loss(LossType type, double beta, double alpha) {}

  /** AdamW and the schedule around it. */
  public record Optimizer(
      double lr,
      double weightDecay,
      int warmupSteps,
      double maxGradNorm,
      int epochsPerRound,
      int minibatchTokens,
      int gradAccumulation,
      LrSchedule schedule) {}

  /**
   * LoRA: rank 0 trains every weight (full fine-tuning); rank &gt; 0 freezes the base and trains
   * adapters on {@code targets} scaled by alpha / rank, the base doubling as the reference.
   */
  public record Lora(int rank, double alpha, double dropout, List<String> targets) {
    /** True when the run trains adapters rather than every weight. */
    public boolean enabled() {
      return rank > 0;
    }

    /** The adapter shape, recording {@code baseModel} as base_model_name_or_path. */
    public LoraConfig adapterConfig(Path baseModel) {
      return new LoraConfig(rank, alpha, dropout, targets, baseModel.toString());
    }
  }

  /** What each online round samples. */
  public record Sampling(
      int promptsPerRound, int k, int maxNewTokens, double temperature, double topP, int topK) {}

  /**
   * How online rounds overlap. With {@code maxStaleness} N = 0 each round samples the version the
   * previous round pushed; with N &ge; 1 round r samples the version pushed by round r − 1 − N, so
   * sampling and scoring of the next rounds run while the learner trains. Which version a round
   * samples is fixed by N and r, never by timing, so same seed, same run, and resume, hold for
   * every N. Offline runs read a fixed dataset and ignore it.
   */
  public record Loop(int maxStaleness) {}

  /**
   * Where prompts come from: a JSONL file of {@code {"prompt": ...}} lines, or with {@code chat}
   * also {@code {"messages": [{"role": ..., "content": ...}]}} lines, sent as conversations the
   * policy server renders with its model's chat template (a {@code prompt} line is then one user
   * message).
   */
  public record Prompts(Path file, int evalCount, int evalEvery, boolean chat) {}

  /** Offline training on a fixed dataset. */
  public record Offline(Path dataset, int epochs) {}

  /**
   * Behaviour of the gRPC clients. {@code pushDtype} is the type of the weights a push carries:
   * {@code auto} (the base model's stored type: bfloat16 for a BF16 checkpoint, else float32),
   * {@code float32}, {@code bfloat16} or {@code float16}.
   */
  public record Clients(
      double deadlineSeconds,
      int retries,
      double replicaTimeoutSeconds,
      Path tokenFile,
      String pushDtype) {
    /** The client options these settings stand for; reads the token file, if one is set. */
    public ClientOptions options() {
      ClientOptions options =
          ClientOptions.defaults()
              .withDeadline(Duration.ofNanos(Math.round(deadlineSeconds * 1e9)))
              .withRetries(retries)
              .withReplicaTimeout(Duration.ofNanos(Math.round(replicaTimeoutSeconds * 1e9)));
      if (tokenFile == null) {
        return options;
      }
      try {
        return options.withBearerToken(Files.readString(tokenFile).strip());
      } catch (IOException e) {
        throw new ConfigException(
            "clients.token_file: cannot read " + tokenFile.toAbsolutePath() + ": " + e, e);
      }
    }
  }

  /** The web dashboard; port 0 turns it off. */
  public record Dashboard(int port) {}

  /** An experiment grid: one run per (loss, mode, seed). Absent for a single run. */
  public record Grid(List<LossType> losses, List<Mode> modes, List<Long> seeds) {}

  /** The values a key takes when the YAML file leaves it out. */
  public static RunConfig defaults() {
    return new RunConfig(
        new Run(Path.of("runs/run"), 1, 20, 5),
        Mode.ONLINE,
        new Service(Path.of(".ncalign/assets/policy-base"), List.of()),
        new Service(Path.of(".ncalign/assets/reward"), List.of()),
        new Loss(LossType.NCA, 0.1, 1.0),
        new Optimizer(2.0e-4, 0.0, 2, 1.0, 2, 2048, 1, LrSchedule.COSINE),
        new Lora(0, 16, 0.0, LoraConfig.KNOWN_TARGETS),
        new Sampling(16, 4, 24, 1.0, 1.0, 0),
        new Loop(0),
        new Prompts(Path.of(".ncalign/assets/prompts.jsonl"), 16, 2, false),
        new Offline(null, 4),
        new Clients(60, 3, 60, null, "auto"),
        new Dashboard(0),
        null);
  }
}

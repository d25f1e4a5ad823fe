package dev.ncalign.orchestrator.loop;

import ai.djl.engine.Engine;
import dev.ncalign.lm.chat.ChatPromptEncoder;
import dev.ncalign.lm.lora.LoraAdapter;
import dev.ncalign.lm.lora.LoraConfig;
import dev.ncalign.lm.lora.PeftAdapterDirectory;
import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.lm.model.ModelFingerprint;
import dev.ncalign.lm.model.WeightDType;
import dev.ncalign.orchestrator.client.PolicyClient;
import dev.ncalign.orchestrator.client.WeightPublisher;
import dev.ncalign.orchestrator.config.ConfigException;
import dev.ncalign.orchestrator.config.LrSchedule;
import dev.ncalign.orchestrator.config.Mode;
import dev.ncalign.orchestrator.config.RunConfig;
import dev.ncalign.orchestrator.launch.ServerProcess;
import dev.ncalign.orchestrator.launch.Services;
import dev.ncalign.orchestrator.source.BatchSource;
import dev.ncalign.orchestrator.source.HeldOutEvaluator;
import dev.ncalign.orchestrator.source.OfflineDataset;
import dev.ncalign.orchestrator.source.OnlineSampler;
import dev.ncalign.orchestrator.source.OnlineSource;
import dev.ncalign.orchestrator.source.PromptSet;
import dev.ncalign.orchestrator.source.Rollout;
import dev.ncalign.orchestrator.store.RunState;
import dev.ncalign.orchestrator.store.RunStore;
import dev.ncalign.orchestrator.train.Learner;
import dev.ncalign.orchestrator.train.LearnerSettings;
import dev.ncalign.orchestrator.train.LearningRateSchedule;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * One run wired from its {@link RunConfig}: the run directory, the servers it starts (when the
 * config names no running replicas), the clients, the policy and its frozen reference, the learner
 * and the loop. Resuming restores the policy and optimizer from the last checkpoint, and the {@link
 * WeightPublisher} pushes those weights to the replicas before the next round.
 */
public final class AlignmentRun implements AutoCloseable {
  private final RunStore store;
  private final List<AutoCloseable> resources = new ArrayList<>();
  private final Services services;
  private final CausalLm policy;
  private final Learner learner;
  private final OnlineSampler sampler;
  private final PromptSet prompts;
  private final AlignmentLoop loop;
  private final int firstRound;
  private final Map<Integer, Rollout> ahead;

  private AlignmentRun(RunConfig config, boolean resume, List<RoundListener> listeners) {
    this.store = RunStore.open(config.run().dir());
    Optional<RunState> state = resume ? store.resume() : Optional.empty();
    if (!resume && !store.metrics().isEmpty()) {
      throw new IllegalStateException(
          "run directory "
              + config.run().dir()
              + " already holds a run: pass --resume to continue it, or choose another run.dir");
    }
    store.writeConfig(config);
    try {
      services = track(Services.open(config, store.dir().resolve("logs")));
      Optional<Path> checkpoint = state.map(store::checkpointPath);
      CausalLm reference =
          track(CausalLm.load(config.policy().model(), Engine.getInstance().defaultDevice()));
      policy = track(loadPolicy(config, reference, checkpoint));
      learner = track(new Learner(policy, reference, learnerSettings(config), config.run().seed()));
      if (state.isPresent()) {
        learner
            .optimizer()
            .load(store.checkpointPath(state.get()).resolve(AlignmentLoop.OPTIMIZER_FILE));
      }
      prompts = PromptSet.load(config.prompts().file(), chatEncoder(config));
      if (config.prompts().chat()) {
        // Before round 1: a replica without a template would refuse every conversation.
        services.policy().requireChatTemplate();
      }
      sampler =
          new OnlineSampler(
              services.policy(), services.reward(), policy.codec(), config.sampling());
      BatchSource source =
          config.mode() == Mode.ONLINE
              ? new OnlineSource(
                  sampler, prompts, config.sampling().promptsPerRound(), config.run().seed())
              : OfflineDataset.load(
                  config.offline().dataset(),
                  policy.codec(),
                  config.sampling().promptsPerRound(),
                  config.run().seed());
      // Before round 1: a replica on another checkpoint would silently poison every round.
      services.policy().requireModel(ModelFingerprint.of(config.policy().model()));
      WeightDType pushDtype = pushDtype(config.clients().pushDtype(), policy);
      WeightPublisher publisher =
          WeightPublisher.synchronize(
              services.policy(),
              PolicyWeights.of(policy, pushDtype),
              state.map(s -> OptionalLong.of(s.liveVersion())).orElse(OptionalLong.empty()));
      LoopSettings settings =
          new LoopSettings(
              config.run().rounds(),
              config.run().checkpointEvery(),
              config.prompts().evalEvery(),
              config.prompts().evalCount(),
              config.run().seed(),
              maxStaleness(config));
      loop =
          new AlignmentLoop(
              config.mode(),
              source,
              learner,
              policy,
              publisher,
              new HeldOutEvaluator(sampler, prompts, config.run().seed()),
              store,
              settings,
              listeners);
      firstRound = state.map(s -> s.lastCompletedRound() + 1).orElse(1);
      ahead =
          checkpoint
              .map(dir -> AlignmentLoop.rolloutsAhead(dir, maxStaleness(config), policy.codec()))
              .orElse(Map.of());
    } catch (IOException e) {
      close();
      throw new UncheckedIOException("cannot resume from " + config.run().dir(), e);
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /**
   * Opens a run; with {@code resume}, continues after the last completed round in its run
   * directory.
   */
  public static AlignmentRun open(RunConfig config, boolean resume, List<RoundListener> listeners) {
    return new AlignmentRun(config, resume, listeners);
  }

  /** Runs every remaining round. */
  public void run() {
    loop.run(firstRound, ahead);
  }

  /** The first round {@link #run()} will run (1 for a fresh run). */
  public int firstRound() {
    return firstRound;
  }

  public RunStore store() {
    return store;
  }

  public OnlineSampler sampler() {
    return sampler;
  }

  /** The run's training and held-out prompts. */
  public PromptSet prompts() {
    return prompts;
  }

  /**
   * With {@code prompts.chat}, the base policy's chat template, which renders the prompt file's
   * conversations as the policy servers will (the text the learner tokenizes).
   */
  private Optional<ChatPromptEncoder> chatEncoder(RunConfig config) {
    if (!config.prompts().chat()) {
      return Optional.empty();
    }
    ChatPromptEncoder encoder = track(ChatPromptEncoder.load(config.policy().model()));
    if (!encoder.available()) {
      throw new ConfigException(
          "prompts.chat: true, but policy.model "
              + config.policy().model()
              + " has no chat template (chat_template.jinja or tokenizer_config.json"
              + " chat_template)");
    }
    return Optional.of(encoder);
  }

  public PolicyClient policyClient() {
    return services.policy();
  }

  /**
   * Adds a listener for the rounds still to run (e.g. a dashboard that needs the run's services
   * first).
   */
  public void addListener(RoundListener listener) {
    loop.addListener(listener);
  }

  /** The policy and reward replicas this run talks to. */
  public Services services() {
    return services;
  }

  /** The servers this run started (empty when it uses running replicas). */
  public List<ServerProcess> servers() {
    return services.started();
  }

  /**
   * The policy to train: with LoRA, a fresh (or the checkpoint's) adapter on the frozen base, which
   * alone stays the reference (no second copy of the weights); otherwise a full copy of the base
   * (or of the checkpoint's weights).
   */
  private static CausalLm loadPolicy(RunConfig config, CausalLm base, Optional<Path> checkpoint) {
    RunConfig.Lora lora = config.lora();
    boolean adapterCheckpoint = checkpoint.map(PeftAdapterDirectory::isAdapter).orElse(false);
    if (checkpoint.isPresent() && adapterCheckpoint != lora.enabled()) {
      throw new IllegalStateException(
          "checkpoint "
              + checkpoint.get()
              + (adapterCheckpoint ? " holds a LoRA adapter" : " holds full weights")
              + " but lora.rank is "
              + lora.rank()
              + ": resume with the run's own lora settings");
    }
    if (!lora.enabled()) {
      return CausalLm.load(
          checkpoint.orElse(config.policy().model()), Engine.getInstance().defaultDevice());
    }
    LoraConfig wanted = lora.adapterConfig(config.policy().model());
    if (checkpoint.isEmpty()) {
      return base.withAdapter(LoraAdapter.initialize(base, wanted, config.run().seed()));
    }
    LoraAdapter adapter = PeftAdapterDirectory.load(checkpoint.get(), base);
    if (!adapter.config().withBaseModel("").equals(wanted.withBaseModel(""))) {
      adapter.close();
      throw new IllegalStateException(
          "checkpoint adapter "
              + adapter.config()
              + " differs from the run's lora settings "
              + wanted);
    }
    return base.withAdapter(adapter);
  }

  /** {@code loop.max_staleness} online; offline batches come from a dataset, nothing to overlap. */
  private static int maxStaleness(RunConfig config) {
    return config.mode() == Mode.ONLINE ? config.loop().maxStaleness() : 0;
  }

  /** Learner settings; the schedule's length estimates the optimizer steps of the whole run. */
  static LearnerSettings learnerSettings(RunConfig config) {
    RunConfig.Optimizer o = config.optimizer();
    RunConfig.Sampling s = config.sampling();
    long tokensPerRound = (long) s.promptsPerRound() * s.k() * (s.maxNewTokens() + 8L);
    long minibatches =
        Math.max(1, (tokensPerRound + o.minibatchTokens() - 1) / o.minibatchTokens());
    long steps =
        Math.max(
            1, config.run().rounds() * o.epochsPerRound() * minibatches / o.gradAccumulation());
    LearningRateSchedule schedule =
        o.schedule() == LrSchedule.COSINE
            ? new LearningRateSchedule(
                (float) o.lr(), o.warmupSteps(), (int) Math.min(Integer.MAX_VALUE, steps), 0.1f)
            : new LearningRateSchedule((float) o.lr(), o.warmupSteps(), 1, 1f);
    return new LearnerSettings(
        config.loss().type(),
        (float) config.loss().beta(),
        (float) config.loss().alpha(),
        o.epochsPerRound(),
        o.minibatchTokens(),
        o.gradAccumulation(),
        schedule,
        (float) o.weightDecay(),
        (float) o.maxGradNorm());
  }

  private <T extends AutoCloseable> T track(T resource) {
    resources.add(resource);
    return resource;
  }

  @Override
  public void close() {
    for (int i = resources.size() - 1; i >= 0; i--) {
      try {
        resources.get(i).close();
      } catch (Exception e) {
        // Closing the rest matters more than one failure to close.
      }
    }
    resources.clear();
  }

  /**
   * The type pushed weights are written in: {@code auto} is the base checkpoint's own type (a BF16
   * model's replicas get BF16, half the bytes of F32), anything else as named.
   */
  static WeightDType pushDtype(String choice, CausalLm policy) {
    return "auto".equals(choice) ? policy.baseDType() : WeightDType.parse(choice);
  }
}

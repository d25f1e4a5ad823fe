package dev.ncalign.policy.serving;

import ai.djl.ndarray.NDManager;
import dev.ncalign.lm.chat.ChatPromptEncoder;
import dev.ncalign.lm.lora.LoraConfig;
import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.lm.model.ModelFingerprint;
import dev.ncalign.lm.model.SequenceLogprobs;
import dev.ncalign.lm.model.TextCodec;
import dev.ncalign.lm.sampling.SampledSequence;
import dev.ncalign.lm.sampling.Sampler;
import dev.ncalign.lm.sampling.SamplingOptions;
import dev.ncalign.policy.metrics.PolicyMetrics;
import dev.ncalign.policy.scheduling.WorkScheduler;
import dev.ncalign.proto.v1.Completion;
import dev.ncalign.proto.v1.FinishReason;
import dev.ncalign.proto.v1.GenerateRequest;
import dev.ncalign.proto.v1.GenerateResponse;
import dev.ncalign.proto.v1.LogprobsItem;
import dev.ncalign.proto.v1.LogprobsRequest;
import dev.ncalign.proto.v1.LogprobsResponse;
import dev.ncalign.proto.v1.PolicyInfo;
import dev.ncalign.proto.v1.PushWeightsResponse;
import dev.ncalign.proto.v1.WeightHeader;
import dev.ncalign.serving.InvalidRequestException;
import dev.ncalign.serving.RefusedRequestException;
import io.grpc.Status;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * What the PolicyService does, without gRPC: runs requests on a leased weight version and builds
 * the proto responses. Requests come checked by {@link RequestValidator} (counts, characters); what
 * needs the tokenizer (tokens per prompt, context) is checked here, against the leased model.
 *
 * <p>Model work runs when the {@link WorkScheduler} admits it (a bounded number at once, paused
 * while a push holds swap priority). The lease is taken after admission, so a request that waited
 * through a swap runs on the new version; one already running keeps its version to the end.
 */
public final class Policy {

  /** ComputeLogprobs items per forward pass: bounds activation memory for big requests. */
  private static final int LOGPROBS_BATCH = 16;

  private final PolicyRegistry registry;
  private final PolicyLimits limits;
  private final String modelPath;
  private final PolicyMetrics metrics;
  private final PromptEncoding prompts;
  private final dev.ncalign.proto.v1.ModelFingerprint fingerprint;
  private final Sampler sampler = new Sampler();
  private final WorkScheduler scheduler;

  /**
   * A policy whose work is recorded in {@code metrics} and admitted by {@code scheduler}; {@code
   * chat} renders conversations (it may hold no template: then conversations are refused).
   */
  public Policy(
      PolicyRegistry registry,
      PolicyLimits limits,
      String modelPath,
      PolicyMetrics metrics,
      ChatPromptEncoder chat,
      WorkScheduler scheduler) {
    this.registry = registry;
    this.scheduler = scheduler;
    this.limits = limits;
    this.modelPath = modelPath;
    this.metrics = metrics;
    this.prompts = new PromptEncoding(chat);
    // Hashed once: the base directory does not change while the server runs.
    this.fingerprint =
        Files.isDirectory(Path.of(modelPath)) ? fingerprint(Path.of(modelPath)) : null;
  }

  private static dev.ncalign.proto.v1.ModelFingerprint fingerprint(Path dir) {
    ModelFingerprint f = ModelFingerprint.of(dir);
    return dev.ncalign.proto.v1.ModelFingerprint.newBuilder()
        .setArchitecture(f.architecture())
        .setShapesSha256(f.shapesSha256())
        .setTokenizerSha256(f.tokenizerSha256())
        .setWeightsSha256(f.weightsSha256())
        .build();
  }

  /** A policy without metrics and without a chat template, running as many requests as cores. */
  public Policy(PolicyRegistry registry, PolicyLimits limits, String modelPath) {
    this(
        registry,
        limits,
        modelPath,
        PolicyMetrics.disabled(),
        new ChatPromptEncoder(Optional.empty(), modelPath),
        WorkScheduler.of(Runtime.getRuntime().availableProcessors()));
  }

  /**
   * Samples num_samples completions per prompt on the live version; stops early when cancelled.
   *
   * @throws RefusedRequestException CANCELLED if cancelled while queued
   */
  public GenerateResponse generate(GenerateRequest request, BooleanSupplier cancelled) {
    try (WorkScheduler.Run run = scheduler.admit(cancelled);
        PolicyLease lease = registry.acquire()) {
      CausalLm lm = lease.model();
      int context = lm.config().maxPositionEmbeddings();
      List<int[]> prompts = this.prompts.generatePrompts(request, lm.codec());
      int longest = 0;
      for (int i = 0; i < prompts.size(); i++) {
        int[] ids = prompts.get(i);
        if (ids.length == 0 || ids.length >= context) {
          throw new InvalidRequestException(
              PromptEncoding.generateField(request, i),
              ids.length
                  + " tokens; must be 1 to "
                  + (context - 1)
                  + " (max_context "
                  + context
                  + ")");
        }
        longest = Math.max(longest, ids.length);
      }
      int maxNew =
          RequestValidator.maxNewTokens(
              request.getSampling(), longest, context, limits.defaultMaxNewTokens());
      SamplingOptions options = RequestValidator.samplingOptions(request.getSampling(), maxNew);
      List<SampledSequence> samples =
          sampler.generateIds(lm, prompts, request.getNumSamples(), options, run::betweenSteps);
      GenerateResponse.Builder response =
          GenerateResponse.newBuilder().setPolicyVersion(lease.version());
      long tokens = 0;
      for (SampledSequence s : samples) {
        response.addCompletions(completion(s, lease.version()));
        tokens += s.tokenIds().length;
      }
      metrics.generated(samples.size(), tokens);
      return response.build();
    }
  }

  /** Log-probs of given responses under the live version. */
  public LogprobsResponse computeLogprobs(LogprobsRequest request) {
    return computeLogprobs(request, () -> false);
  }

  /**
   * As {@link #computeLogprobs(LogprobsRequest)}; {@code cancelled} takes the request out of the
   * queue, and is checked between forward batches.
   *
   * @throws RefusedRequestException CANCELLED if cancelled
   */
  public LogprobsResponse computeLogprobs(LogprobsRequest request, BooleanSupplier cancelled) {
    try (WorkScheduler.Run run = scheduler.admit(cancelled);
        PolicyLease lease = registry.acquire()) {
      CausalLm lm = lease.model();
      TextCodec codec = lm.codec();
      int context = lm.config().maxPositionEmbeddings();
      List<int[]> prompts = new ArrayList<>();
      List<int[]> responses = new ArrayList<>();
      for (int i = 0; i < request.getItemsCount(); i++) {
        LogprobsItem item = request.getItems(i);
        int[] prompt = this.prompts.logprobsPrompt(item, i, codec);
        int[] response = codec.encodeResponse(item.getResponse());
        if (prompt.length == 0 || prompt.length + response.length > context) {
          throw new InvalidRequestException(
              "items[" + i + "]",
              prompt.length
                  + " prompt + "
                  + response.length
                  + " response tokens; need ≥ 1 prompt token and ≤ max_context "
                  + context
                  + " in total");
        }
        prompts.add(prompt);
        responses.add(response);
      }
      LogprobsResponse.Builder out =
          LogprobsResponse.newBuilder().setPolicyVersion(lease.version());
      for (int from = 0; from < prompts.size(); from += LOGPROBS_BATCH) {
        if (from > 0 && run.betweenSteps()) {
          throw new RefusedRequestException(Status.Code.CANCELLED, "cancelled");
        }
        int to = Math.min(prompts.size(), from + LOGPROBS_BATCH);
        addLogprobs(lm, prompts.subList(from, to), responses.subList(from, to), out);
      }
      return out.build();
    }
  }

  /**
   * Verifies a completed upload and makes it the live version.
   *
   * @throws InvalidRequestException if the file does not fit the model or holds non-finite values
   *     (the message names the tensor)
   * @throws StaleVersionException if the version is not above the live one
   */
  public PushWeightsResponse pushWeights(WeightUpload upload) {
    if (upload.header() != null) {
      metrics.received(upload.receiveNanos());
    }
    long start = System.nanoTime();
    boolean accepted = false;
    WeightHeader header = upload.header();
    try (InputStream data = upload.verifiedData()) {
      switch (header.getKind()) {
        case FULL, WEIGHT_KIND_UNSPECIFIED -> registry.push(header.getVersion(), data);
        case LORA_ADAPTER -> registry.pushAdapter(header.getVersion(), adapterConfig(header), data);
        default ->
            throw new InvalidRequestException(
                "header.kind", "unknown weight kind " + header.getKindValue());
      }
      accepted = true;
    } catch (IllegalArgumentException e) {
      // The registry's word for a file that is not these weights: the caller sent it.
      throw new InvalidRequestException("data", e.getMessage());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      metrics.swapped(System.nanoTime() - start, accepted);
    }
    return PushWeightsResponse.newBuilder()
        .setLiveVersion(upload.header().getVersion())
        .setLoadSeconds((System.nanoTime() - start) / 1e9)
        .build();
  }

  private static LoraConfig adapterConfig(WeightHeader header) {
    if (header.getAdapterConfigJson().isEmpty()) {
      throw new InvalidRequestException(
          "header.adapter_config_json", "required for LORA_ADAPTER (PEFT adapter_config.json)");
    }
    try {
      return LoraConfig.fromPeftJson(header.getAdapterConfigJson());
    } catch (IllegalArgumentException e) {
      throw new InvalidRequestException("header.adapter_config_json", e.getMessage());
    }
  }

  /** Model, live version, device and limits. */
  public PolicyInfo info() {
    try (PolicyLease lease = registry.acquire()) {
      CausalLm lm = lease.model();
      PolicyInfo.Builder info = PolicyInfo.newBuilder();
      if (fingerprint != null) {
        info.setFingerprint(fingerprint);
      }
      return info.setModelPath(modelPath)
          .setArchitecture(lm.config().architecture())
          .setLiveVersion(lease.version())
          .setParameterCount(lm.parameterCount())
          .setDevice(lm.manager().getDevice().toString())
          .setMaxContext(lm.config().maxPositionEmbeddings())
          .setMaxNumSamples(limits.maxNumSamples())
          .setMaxPrompts(limits.maxPrompts())
          .setMaxWeightBytes(limits.maxWeightBytes())
          .setMaxChars(limits.text().maxChars())
          .setChatTemplate(prompts.chatTemplate())
          .build();
    }
  }

  /** The bounds requests are checked against. */
  PolicyLimits limits() {
    return limits;
  }

  /** A PushWeights stream to receive; it holds swap priority from its header until closed. */
  WeightUpload newUpload() {
    return new WeightUpload(limits.maxWeightBytes(), scheduler.gate());
  }

  private static void addLogprobs(
      CausalLm lm, List<int[]> prompts, List<int[]> responses, LogprobsResponse.Builder out) {
    try (NDManager scope = lm.manager().newSubManager()) {
      SequenceLogprobs result = lm.logprobs(scope, prompts, responses, false);
      float[] flat = result.tokenLogprobs().toFloatArray();
      int width = (int) result.tokenLogprobs().getShape().get(1);
      for (int i = 0; i < prompts.size(); i++) {
        dev.ncalign.proto.v1.SequenceLogprobs.Builder item =
            dev.ncalign.proto.v1.SequenceLogprobs.newBuilder();
        double sum = 0;
        for (int j = 0; j < responses.get(i).length; j++) {
          item.addTokenIds(responses.get(i)[j]);
          item.addTokenLogprobs(flat[i * width + j]);
          sum += flat[i * width + j];
        }
        out.addResults(item.setSumLogprob(sum));
      }
    }
  }

  private static Completion completion(SampledSequence s, long version) {
    Completion.Builder c =
        Completion.newBuilder()
            .setPromptIndex(s.promptIndex())
            .setSampleIndex(s.sampleIndex())
            .setText(s.text())
            .setSumLogprob(s.sumLogprob())
            .setFinishReason(FinishReason.valueOf(s.finishReason().name()))
            .setPolicyVersion(version);
    for (int i = 0; i < s.tokenIds().length; i++) {
      c.addTokenIds(s.tokenIds()[i]).addTokenLogprobs(s.tokenLogprobs()[i]);
    }
    return c.build();
  }
}

package dev.ncalign.orchestrator.client;

import dev.ncalign.lm.model.ModelFingerprint;
import dev.ncalign.proto.v1.Completion;
import dev.ncalign.proto.v1.Conversation;
import dev.ncalign.proto.v1.GenerateRequest;
import dev.ncalign.proto.v1.GenerateResponse;
import dev.ncalign.proto.v1.GetInfoRequest;
import dev.ncalign.proto.v1.LogprobsItem;
import dev.ncalign.proto.v1.LogprobsRequest;
import dev.ncalign.proto.v1.LogprobsResponse;
import dev.ncalign.proto.v1.PolicyInfo;
import dev.ncalign.proto.v1.PolicyServiceGrpc;
import dev.ncalign.proto.v1.PushWeightsResponse;
import dev.ncalign.proto.v1.SamplingParams;
import dev.ncalign.proto.v1.WeightHeader;
import io.grpc.Channel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.ToLongFunction;

/**
 * The policy replicas as one service. Generate and ComputeLogprobs split their items over the live
 * replicas (and under the servers' limits) and run the slices in parallel, so generation scales
 * out; PushWeights goes to every live replica.
 *
 * <p>The client keeps the live version and its weights: a replica that comes back, or appears
 * behind a {@code dns:///} target, is checked against the learner's model ({@link #requireModel})
 * and brought to the live version before it receives any call, and an answer stamped with another
 * version than the live one takes its replica out and is asked again elsewhere. Thread-safe.
 */
public final class PolicyClient implements AutoCloseable {

  private final Object publish = new Object();
  private final Replicas replicas;
  private volatile PolicyInfo limits;

  /** The version every live replica serves; 0 until the first push. */
  private volatile long liveVersion;

  /**
   * The weights of {@link #liveVersion} (written on demand, not held) and their digest, to bring
   * returning replicas up to it. Between pushes the learner changes its model in place, so a
   * replica admitted then receives bytes that fail the digest and stays out until the next push.
   */
  private volatile WeightSource liveWeights;

  private volatile WeightDigest liveDigest;

  /** The learner's model; null until {@link #requireModel} (then replicas are not checked). */
  private volatile ModelFingerprint expected;

  /**
   * @param targets {@code host:port} of a replica, or {@code dns:///name:port} for every address
   *     the name resolves to (re-resolved while the client runs)
   */
  public PolicyClient(List<String> targets, ClientOptions options) {
    this(targets, options, Discovery.Resolver.SYSTEM);
  }

  PolicyClient(List<String> targets, ClientOptions options, Discovery.Resolver resolver) {
    this.replicas = new Replicas("policy", targets, options, this::admit, resolver);
  }

  /** How a Generate's prompts are cut into the requests that run in parallel. */
  public enum Slicing {
    /** One slice per live replica (more above the servers' limit): the fastest. */
    PER_REPLICA,
    /**
     * Slices of the servers' {@code max_prompts}, whatever the number of replicas. A slice's
     * padding changes the arithmetic, so the per-token log-probs depend on the slicing in their
     * last float digits; with these slices they are the same bytes for one replica or many.
     */
    SERVER_LIMIT
  }

  /**
   * K completions for every prompt, ordered by (prompt_index, sample_index) with indexes into
   * {@code prompts}, as one replica would answer, all stamped with the live version.
   *
   * @throws IllegalStateException if, before the first push, the replicas serve different policy
   *     versions (push the current weights to every replica first)
   */
  public GenerateResponse generate(List<String> prompts, int k, SamplingParams params) {
    return generate(prompts, k, params, Slicing.PER_REPLICA);
  }

  /** {@link #generate(List, int, SamplingParams)} cut into requests by {@code slicing}. */
  public GenerateResponse generate(
      List<String> prompts, int k, SamplingParams params, Slicing slicing) {
    return generate(prompts, GenerateRequest.Builder::addAllPrompts, k, params, slicing);
  }

  /**
   * K completions for every conversation, which the servers render with their model's chat
   * template; otherwise as {@link #generate(List, int, SamplingParams, Slicing)}.
   */
  public GenerateResponse generateConversations(
      List<Conversation> conversations, int k, SamplingParams params, Slicing slicing) {
    return generate(
        conversations, GenerateRequest.Builder::addAllConversations, k, params, slicing);
  }

  /**
   * Refuses replicas whose model has no chat template, before a run sends them conversations.
   *
   * @throws IllegalStateException naming the first such replica, in one line
   */
  public void requireChatTemplate() {
    for (Map.Entry<String, PolicyInfo> e :
        replicas.callEach("GetInfo", PolicyClient::getInfo).entrySet()) {
      if (!e.getValue().getChatTemplate()) {
        throw new IllegalStateException(
            "policy replica "
                + e.getKey()
                + " serves "
                + e.getValue().getModelPath()
                + ", which has no chat template: prompts.chat: true needs a chat model");
      }
    }
  }

  /** Generate with prompts of either kind, {@code add} putting a slice of them into a request. */
  private <T> GenerateResponse generate(
      List<T> prompts,
      BiConsumer<GenerateRequest.Builder, List<T>> add,
      int k,
      SamplingParams params,
      Slicing slicing) {
    if (prompts.isEmpty()) {
      throw new IllegalArgumentException("no prompts to generate for");
    }
    int slices = slicing == Slicing.PER_REPLICA ? replicas.size() : 1;
    List<List<T>> shards = Shards.split(prompts, slices, limits().getMaxPrompts());
    List<GenerateRequest> requests = new ArrayList<>();
    int start = 0;
    for (List<T> shard : shards) {
      GenerateRequest.Builder request = GenerateRequest.newBuilder();
      add.accept(request, shard);
      requests.add(request.setNumSamples(k).setSampling(shardParams(params, start)).build());
      start += shard.size();
    }
    List<GenerateResponse> parts =
        replicas.scatter(
            "Generate",
            requests,
            request ->
                channel -> inStep(PolicyServiceGrpc.newBlockingStub(channel).generate(request)));
    GenerateResponse.Builder merged =
        GenerateResponse.newBuilder()
            .setPolicyVersion(sameVersion(parts, GenerateResponse::getPolicyVersion));
    int offset = 0;
    for (int i = 0; i < parts.size(); i++) {
      for (Completion completion : parts.get(i).getCompletionsList()) {
        merged.addCompletions(
            completion.toBuilder().setPromptIndex(completion.getPromptIndex() + offset));
      }
      offset += shards.get(i).size();
    }
    return merged.build();
  }

  /**
   * The part of a request that starts at prompt {@code firstPrompt}: same seed, its offset in the
   * whole batch, so each completion draws the stream it would in one request to one replica.
   */
  private static SamplingParams shardParams(SamplingParams params, int firstPrompt) {
    return params.toBuilder().setFirstPromptIndex(firstPrompt).build();
  }

  /** Log-probs of the given responses under the live policy, one result per item in order. */
  public LogprobsResponse logprobs(List<LogprobsItem> items) {
    if (items.isEmpty()) {
      throw new IllegalArgumentException("no items to score");
    }
    PolicyInfo info = limits();
    int maxItems = info.getMaxPrompts() * info.getMaxNumSamples();
    List<LogprobsResponse> parts =
        replicas.scatter(
            "ComputeLogprobs",
            Shards.split(items, replicas.size(), maxItems),
            shard ->
                channel -> {
                  LogprobsResponse response =
                      PolicyServiceGrpc.newBlockingStub(channel)
                          .computeLogprobs(LogprobsRequest.newBuilder().addAllItems(shard).build());
                  checkLive(response.getPolicyVersion());
                  return response;
                });
    LogprobsResponse.Builder merged =
        LogprobsResponse.newBuilder()
            .setPolicyVersion(sameVersion(parts, LogprobsResponse::getPolicyVersion));
    parts.forEach(part -> merged.addAllResults(part.getResultsList()));
    return merged.build();
  }

  /**
   * Sends a safetensors file as {@code version} to every live replica and returns once each has
   * verified, loaded and swapped it in. A replica that fails as unavailable is marked down and
   * receives these weights when it comes back; if none took them, waits for one to come back.
   *
   * @return {@code live_version} = version, {@code load_seconds} = the slowest replica's
   * @throws RpcException naming every replica that rejected the weights, or when no replica came
   *     back within {@link ClientOptions#replicaTimeout()}
   */
  public PushWeightsResponse pushWeights(long version, WeightSource safetensors) {
    return pushWeights(version, safetensors, WeightDigest.of(safetensors));
  }

  /** Pushes a file whose size and digest are already known. */
  PushWeightsResponse pushWeights(long version, WeightSource safetensors, WeightDigest digest) {
    WeightHeader header = header(version, digest, safetensors);
    Map<String, PushWeightsResponse> answers;
    synchronized (publish) {
      liveVersion = version;
      liveWeights = safetensors;
      liveDigest = digest;
      answers =
          replicas.callEach(
              "PushWeights", channel -> WeightUpload.push(channel, header, safetensors));
      answers.keySet().forEach(target -> replicas.setVersion(target, version));
    }
    if (answers.isEmpty()) {
      // Admission brings the first replica back to this version (outside the lock it needs).
      replicas.awaitAnyLive("PushWeights");
    }
    double slowest =
        answers.values().stream().mapToDouble(PushWeightsResponse::getLoadSeconds).max().orElse(0);
    return PushWeightsResponse.newBuilder().setLiveVersion(version).setLoadSeconds(slowest).build();
  }

  /** {@link #pushWeights(long, WeightSource)} of a file already in memory. */
  public PushWeightsResponse pushWeights(long version, byte[] safetensors) {
    return pushWeights(version, WeightSource.of(safetensors));
  }

  /**
   * Refuses replicas that serve another base model than {@code learner}: checks every live replica
   * now, and every replica that comes back or appears from now on (those are kept out, with a log
   * line). A replica that reports no fingerprint (an older server) is not checked.
   *
   * @throws IllegalStateException naming the first live replica on another model, in one line
   */
  public void requireModel(ModelFingerprint learner) {
    expected = learner;
    for (Map.Entry<String, PolicyInfo> e :
        replicas.callEach("GetInfo", PolicyClient::getInfo).entrySet()) {
      String mismatch = mismatch(learner, e.getValue());
      if (mismatch != null) {
        throw new IllegalStateException("policy replica " + e.getKey() + " " + mismatch);
      }
    }
  }

  /** Every live replica's model, live version and limits, in discovery order. */
  public List<PolicyInfo> info() {
    return List.copyOf(replicas.callEach("GetInfo", PolicyClient::getInfo).values());
  }

  /** Every replica as the client sees it now (no call is made). */
  public List<ReplicaView> replicas() {
    return replicas.views();
  }

  /**
   * True once every replica reports SERVING on the gRPC health service, false if that takes too
   * long.
   */
  public boolean awaitReady(Duration timeout) {
    return replicas.awaitReady(timeout);
  }

  @Override
  public void close() {
    replicas.close();
  }

  private static PolicyInfo getInfo(Channel channel) {
    return PolicyServiceGrpc.newBlockingStub(channel).getInfo(GetInfoRequest.getDefaultInstance());
  }

  /**
   * The request limits, asked of one replica the first time they are needed (replicas share flags).
   */
  private PolicyInfo limits() {
    PolicyInfo known = limits;
    if (known == null) {
      known = replicas.call("GetInfo", PolicyClient::getInfo);
      limits = known;
    }
    return known;
  }

  /**
   * Brings a replica that serves again in step: same base model as the learner, live version (the
   * held weights are pushed to it when it serves another). Holds the publish lock so no push runs
   * meanwhile.
   */
  private Long admit(Channel channel) {
    synchronized (publish) {
      PolicyInfo info = getInfo(channel);
      ModelFingerprint learner = expected;
      String mismatch = learner == null ? null : mismatch(learner, info);
      if (mismatch != null) {
        throw new Replicas.Refused(mismatch);
      }
      long live = liveVersion;
      if (live == 0 || info.getLiveVersion() == live) {
        return info.getLiveVersion();
      }
      WeightUpload.push(channel, header(live, liveDigest, liveWeights), liveWeights);
      return live;
    }
  }

  /** Why a replica's model is not the learner's, e.g. "serves another model: tokenizer (…)". */
  private static String mismatch(ModelFingerprint learner, PolicyInfo info) {
    if (!info.hasFingerprint()) {
      return null;
    }
    dev.ncalign.proto.v1.ModelFingerprint f = info.getFingerprint();
    List<String> differences =
        learner.differences(
            new ModelFingerprint(
                f.getArchitecture(),
                f.getShapesSha256(),
                f.getTokenizerSha256(),
                f.getWeightsSha256()));
    return differences.isEmpty()
        ? null
        : "serves another model than the learner's ("
            + info.getModelPath()
            + "): "
            + String.join(", ", differences);
  }

  private GenerateResponse inStep(GenerateResponse response) {
    checkLive(response.getPolicyVersion());
    for (Completion completion : response.getCompletionsList()) {
      if (completion.getPolicyVersion() != response.getPolicyVersion()) {
        throw new Replicas.OutOfStep(
            "stamped a completion v"
                + completion.getPolicyVersion()
                + " in a v"
                + response.getPolicyVersion()
                + " answer");
      }
    }
    return response;
  }

  /** Takes a replica out when it answers from another version than the live one. */
  private void checkLive(long version) {
    long live = liveVersion;
    if (live != 0 && version != live) {
      throw new Replicas.OutOfStep("answered from v" + version + ", the live version is v" + live);
    }
  }

  private static WeightHeader header(long version, WeightDigest digest, WeightSource weights) {
    return WeightHeader.newBuilder()
        .setVersion(version)
        .setFormat("safetensors")
        .setTotalBytes(digest.totalBytes())
        .setSha256Hex(digest.sha256Hex())
        .setKind(weights.kind())
        .setAdapterConfigJson(weights.adapterConfigJson())
        .build();
  }

  private static <T> long sameVersion(List<T> parts, ToLongFunction<T> version) {
    long first = version.applyAsLong(parts.get(0));
    for (T part : parts) {
      if (version.applyAsLong(part) != first) {
        throw new IllegalStateException(
            "policy replicas serve different versions ("
                + parts.stream()
                    .map(p -> String.valueOf(version.applyAsLong(p)))
                    .distinct()
                    .toList()
                + "): push the current weights to every replica first");
      }
    }
    return first;
  }
}

package dev.ncalign.orchestrator.client;

import dev.ncalign.proto.v1.Completion;
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
import java.util.function.ToLongFunction;

/**
 * The policy replicas as one service. Generate and ComputeLogprobs split their items over the
 * replicas (and under the servers' limits) and run the slices in parallel, so generation scales
 * out; PushWeights goes to every replica. Thread-safe.
 */
public final class PolicyClient implements AutoCloseable {

  private final Replicas replicas;
  private volatile PolicyInfo limits;

  /**
   * @param targets {@code host:port} of every replica (any grpc target string works)
   */
  public PolicyClient(List<String> targets, ClientOptions options) {
    this.replicas = new Replicas("policy", targets, options);
  }

  /**
   * K completions for every prompt, ordered by (prompt_index, sample_index) with indexes into
   * {@code prompts}, as one replica would answer.
   *
   * @throws IllegalStateException if the replicas serve different policy versions (a replica
   *     restarted since the last push: push again before sampling)
   */
  public GenerateResponse generate(List<String> prompts, int k, SamplingParams params) {
    if (prompts.isEmpty()) {
      throw new IllegalArgumentException("no prompts to generate for");
    }
    List<List<String>> shards = Shards.split(prompts, replicas.size(), limits().getMaxPrompts());
    List<GenerateRequest> requests = new ArrayList<>();
    int start = 0;
    for (List<String> shard : shards) {
      requests.add(
          GenerateRequest.newBuilder()
              .addAllPrompts(shard)
              .setNumSamples(k)
              .setSampling(shardParams(params, start))
              .build());
      start += shard.size();
    }
    List<GenerateResponse> parts =
        replicas.scatter(
            "Generate",
            requests,
            request -> channel -> PolicyServiceGrpc.newBlockingStub(channel).generate(request));
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
   * A server seeds each sample from (seed, prompt index in the request, sample index), so slices
   * sent with one seed would reuse the first slice's random streams; later slices get a seed mixed
   * with their offset instead. 0 (a fresh seed per request) stays 0.
   */
  private static SamplingParams shardParams(SamplingParams params, int firstPrompt) {
    if (firstPrompt == 0 || params.getSeed() == 0) {
      return params;
    }
    long mixed = params.getSeed() ^ (firstPrompt * 0xD1B54A32D192ED03L);
    return params.toBuilder().setSeed(mixed == 0 ? 1 : mixed).build();
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
                channel ->
                    PolicyServiceGrpc.newBlockingStub(channel)
                        .computeLogprobs(LogprobsRequest.newBuilder().addAllItems(shard).build()));
    LogprobsResponse.Builder merged =
        LogprobsResponse.newBuilder()
            .setPolicyVersion(sameVersion(parts, LogprobsResponse::getPolicyVersion));
    parts.forEach(part -> merged.addAllResults(part.getResultsList()));
    return merged.build();
  }

  /**
   * Sends a safetensors file as {@code version} to every replica and returns once each has
   * verified, loaded and swapped it in. The file is written once to digest it and once per replica
   * while it streams, never held whole in memory.
   *
   * @return {@code live_version} = version, {@code load_seconds} = the slowest replica's
   * @throws RpcException naming every replica that failed (the others do serve the new version)
   */
  public PushWeightsResponse pushWeights(long version, WeightSource safetensors) {
    return pushWeights(version, safetensors, WeightDigest.of(safetensors));
  }

  /** Pushes a file whose size and digest are already known. */
  PushWeightsResponse pushWeights(long version, WeightSource safetensors, WeightDigest digest) {
    WeightHeader header =
        WeightHeader.newBuilder()
            .setVersion(version)
            .setFormat("safetensors")
            .setTotalBytes(digest.totalBytes())
            .setSha256Hex(digest.sha256Hex())
            .setKind(safetensors.kind())
            .setAdapterConfigJson(safetensors.adapterConfigJson())
            .build();
    List<PushWeightsResponse> answers =
        replicas.callEach(
            "PushWeights", channel -> WeightUpload.push(channel, header, safetensors));
    double slowest =
        answers.stream().mapToDouble(PushWeightsResponse::getLoadSeconds).max().orElse(0);
    return PushWeightsResponse.newBuilder().setLiveVersion(version).setLoadSeconds(slowest).build();
  }

  /** {@link #pushWeights(long, WeightSource)} of a file already in memory. */
  public PushWeightsResponse pushWeights(long version, byte[] safetensors) {
    return pushWeights(version, WeightSource.of(safetensors));
  }

  /** Every replica's model, live version and limits, in target order. */
  public List<PolicyInfo> info() {
    return replicas.callEach("GetInfo", PolicyClient::getInfo);
  }

  /**
   * True once every replica reports SERVING on the gRPC health service, false if that takes too
   * long.
   */
  public boolean awaitReady(Duration timeout) {
    return replicas.awaitReady(timeout);
  }

  /**
   * Whether each replica (by target, in target order) reports SERVING now; probes take at most
   * {@code timeout}.
   */
  public Map<String, Boolean> health(Duration timeout) {
    return replicas.health(timeout);
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

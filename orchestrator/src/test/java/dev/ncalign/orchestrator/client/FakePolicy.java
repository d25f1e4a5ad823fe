package dev.ncalign.orchestrator.client;

import dev.ncalign.lm.io.Sha256;
import dev.ncalign.proto.v1.Completion;
import dev.ncalign.proto.v1.FinishReason;
import dev.ncalign.proto.v1.GenerateRequest;
import dev.ncalign.proto.v1.GenerateResponse;
import dev.ncalign.proto.v1.GetInfoRequest;
import dev.ncalign.proto.v1.LogprobsItem;
import dev.ncalign.proto.v1.LogprobsRequest;
import dev.ncalign.proto.v1.LogprobsResponse;
import dev.ncalign.proto.v1.PolicyInfo;
import dev.ncalign.proto.v1.PolicyServiceGrpc;
import dev.ncalign.proto.v1.PushWeightsResponse;
import dev.ncalign.proto.v1.SequenceLogprobs;
import dev.ncalign.proto.v1.WeightChunk;
import dev.ncalign.proto.v1.WeightHeader;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A policy replica that answers from its inputs: completion text is {@code name:prompt#sample}, a
 * response's log-prob is minus its length. It can fail its next calls with UNAVAILABLE, hang, or
 * reject pushes, and records what it was sent.
 */
final class FakePolicy extends PolicyServiceGrpc.PolicyServiceImplBase {

  final String name;
  final int maxPrompts;
  final List<List<String>> generated = new CopyOnWriteArrayList<>();
  final List<Long> seeds = new CopyOnWriteArrayList<>();
  final List<Integer> logprobBatches = new CopyOnWriteArrayList<>();
  final List<WeightHeader> headers = new CopyOnWriteArrayList<>();
  final List<Integer> chunkSizes = new CopyOnWriteArrayList<>();

  /** Weight bytes received so far over every push, counted as each chunk arrives. */
  final AtomicLong receivedBytes = new AtomicLong();

  final AtomicInteger unavailableCalls = new AtomicInteger();
  volatile byte[] weights;
  volatile long version = 1;
  volatile boolean hang;

  /**
   * When set, completions carry token ids, per-token log-probs and a finish reason (see {@link
   * #sampledIds}), and their text grows with the sample index so rewards differ.
   */
  volatile boolean sampleTokens;

  volatile Status rejectPush;
  volatile dev.ncalign.proto.v1.ModelFingerprint fingerprint;

  /** "push vN" and "generate vN" in the order they happened, N the version after / served. */
  final List<String> events = new CopyOnWriteArrayList<>();

  FakePolicy(String name, int maxPrompts) {
    this.name = name;
    this.maxPrompts = maxPrompts;
  }

  @Override
  public void generate(GenerateRequest request, StreamObserver<GenerateResponse> out) {
    if (hang || failedAsUnavailable(out)) {
      return;
    }
    generated.add(request.getPromptsList());
    events.add("generate v" + version);
    seeds.add(request.getSampling().getSeed());
    GenerateResponse.Builder response = GenerateResponse.newBuilder().setPolicyVersion(version);
    for (int p = 0; p < request.getPromptsCount(); p++) {
      for (int s = 0; s < request.getNumSamples(); s++) {
        Completion.Builder completion =
            Completion.newBuilder()
                .setPromptIndex(p)
                .setSampleIndex(s)
                .setText(name + ":" + request.getPrompts(p) + "#" + s)
                .setPolicyVersion(version);
        if (sampleTokens) {
          int[] ids = sampledIds(p, s);
          completion.setText(completion.getText() + "+".repeat(s));
          for (int t = 0; t < ids.length; t++) {
            completion.addTokenIds(ids[t]).addTokenLogprobs(-0.5f - t);
          }
          // Odd samples were cut off at max_new_tokens.
          completion.setFinishReason(s % 2 == 1 ? FinishReason.LENGTH : FinishReason.STOP);
        }
        response.addCompletions(completion);
      }
    }
    out.onNext(response.build());
    out.onCompleted();
  }

  /** The token ids of sample {@code s} of the request's prompt {@code p}, when sampleTokens. */
  static int[] sampledIds(int p, int s) {
    int[] ids = new int[2 + s];
    for (int t = 0; t < ids.length; t++) {
      ids[t] = 4 + (p * 7 + s * 3 + t * 5) % 25;
    }
    return ids;
  }

  @Override
  public void computeLogprobs(LogprobsRequest request, StreamObserver<LogprobsResponse> out) {
    if (failedAsUnavailable(out)) {
      return;
    }
    logprobBatches.add(request.getItemsCount());
    LogprobsResponse.Builder response = LogprobsResponse.newBuilder().setPolicyVersion(version);
    for (LogprobsItem item : request.getItemsList()) {
      response.addResults(
          SequenceLogprobs.newBuilder().setSumLogprob(-item.getResponse().length()));
    }
    out.onNext(response.build());
    out.onCompleted();
  }

  @Override
  public StreamObserver<WeightChunk> pushWeights(StreamObserver<PushWeightsResponse> out) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    return new StreamObserver<>() {
      @Override
      public void onNext(WeightChunk chunk) {
        if (chunk.hasHeader()) {
          headers.add(chunk.getHeader());
        } else {
          chunkSizes.add(chunk.getData().size());
          receivedBytes.addAndGet(chunk.getData().size());
          bytes.writeBytes(chunk.getData().toByteArray());
        }
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {
        WeightHeader header = headers.get(headers.size() - 1);
        byte[] data = bytes.toByteArray();
        if (rejectPush != null) {
          out.onError(rejectPush.asRuntimeException());
        } else if (data.length != header.getTotalBytes()
            || !sha256(data).equals(header.getSha256Hex())) {
          out.onError(Status.INVALID_ARGUMENT.withDescription("bad bytes").asRuntimeException());
        } else {
          weights = data;
          version = header.getVersion();
          events.add("push v" + version);
          out.onNext(
              PushWeightsResponse.newBuilder()
                  .setLiveVersion(version)
                  .setLoadSeconds(0.25)
                  .build());
          out.onCompleted();
        }
      }
    };
  }

  @Override
  public void getInfo(GetInfoRequest request, StreamObserver<PolicyInfo> out) {
    PolicyInfo.Builder info = PolicyInfo.newBuilder();
    if (fingerprint != null) {
      info.setFingerprint(fingerprint);
    }
    out.onNext(
        info.setModelPath("/fake/" + name)
            .setLiveVersion(version)
            .setMaxPrompts(maxPrompts)
            .setMaxNumSamples(4)
            .build());
    out.onCompleted();
  }

  /** Fails the call with UNAVAILABLE while the countdown set by the test lasts. */
  private boolean failedAsUnavailable(StreamObserver<?> out) {
    if (unavailableCalls.getAndDecrement() > 0) {
      out.onError(Status.UNAVAILABLE.withDescription(name + " is warming up").asRuntimeException());
      return true;
    }
    return false;
  }

  static String sha256(byte[] data) {
    return Sha256.hex(data);
  }
}

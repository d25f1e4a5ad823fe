package dev.ncalign.policy.serving;

import com.google.protobuf.ByteString;
import dev.ncalign.lm.io.Sha256;
import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.lm.model.TestModels;
import dev.ncalign.proto.v1.PolicyServiceGrpc;
import dev.ncalign.proto.v1.PushWeightsResponse;
import dev.ncalign.proto.v1.WeightChunk;
import dev.ncalign.proto.v1.WeightHeader;
import dev.ncalign.proto.v1.WeightKind;
import dev.ncalign.serving.BearerTokenInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** Shared helpers: a plaintext loopback channel, weight files, and a PushWeights client. */
final class ServingFixtures {

  private ServingFixtures() {}

  static ManagedChannel channel(int port) {
    return NettyChannelBuilder.forAddress("127.0.0.1", port)
        .usePlaintext()
        .maxInboundMessageSize(64 << 20)
        .build();
  }

  /** The tiny model's weights randomised with {@code seed}, as a safetensors file. */
  static byte[] weights(long seed) {
    try (CausalLm lm = TestModels.loadTiny()) {
      TestModels.randomize(lm, seed, 0.25);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      lm.writeSafetensors(out);
      return out.toByteArray();
    }
  }

  static String sha256(byte[] data) {
    return Sha256.hex(data);
  }

  /**
   * Streams {@code data} in 4 kB chunks under a header announcing {@code totalBytes} and {@code
   * sha}.
   */
  static PushWeightsResponse push(
      ManagedChannel channel,
      String token,
      long version,
      byte[] data,
      long totalBytes,
      String sha) {
    return push(
        channel,
        token,
        WeightHeader.newBuilder()
            .setVersion(version)
            .setFormat("safetensors")
            .setTotalBytes(totalBytes)
            .setSha256Hex(sha)
            .build(),
        data);
  }

  /** Streams {@code data} in 4 kB chunks after {@code header}. */
  static PushWeightsResponse push(
      ManagedChannel channel, String token, WeightHeader header, byte[] data) {
    PolicyServiceGrpc.PolicyServiceStub stub =
        PolicyServiceGrpc.newStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    if (token != null) {
      Metadata headers = new Metadata();
      headers.put(BearerTokenInterceptor.AUTHORIZATION, "Bearer " + token);
      stub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }
    CompletableFuture<PushWeightsResponse> result = new CompletableFuture<>();
    StreamObserver<WeightChunk> upload = stub.pushWeights(into(result));
    upload.onNext(WeightChunk.newBuilder().setHeader(header).build());
    for (int from = 0; from < data.length; from += 4096) {
      upload.onNext(
          WeightChunk.newBuilder()
              .setData(ByteString.copyFrom(data, from, Math.min(4096, data.length - from)))
              .build());
    }
    upload.onCompleted();
    try {
      return result.get(60, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof StatusRuntimeException sre) {
        throw sre;
      }
      throw new IllegalStateException(e);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** An observer of a call with one response that completes {@code result} with its outcome. */
  static <T> StreamObserver<T> into(CompletableFuture<T> result) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        result.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        result.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {}
    };
  }

  static PushWeightsResponse push(ManagedChannel channel, long version, byte[] data) {
    return push(channel, null, version, data, data.length, sha256(data));
  }

  /** A LORA_ADAPTER push of {@code tensors} described by {@code adapterConfigJson}. */
  static PushWeightsResponse pushAdapter(
      ManagedChannel channel, long version, byte[] tensors, String adapterConfigJson) {
    return push(
        channel,
        null,
        WeightHeader.newBuilder()
            .setVersion(version)
            .setFormat("safetensors")
            .setTotalBytes(tensors.length)
            .setSha256Hex(sha256(tensors))
            .setKind(WeightKind.LORA_ADAPTER)
            .setAdapterConfigJson(adapterConfigJson)
            .build(),
        tensors);
  }
}

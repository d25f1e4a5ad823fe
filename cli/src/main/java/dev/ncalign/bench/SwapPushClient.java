package dev.ncalign.bench;

import com.google.protobuf.ByteString;
import dev.ncalign.lm.io.Sha256;
import dev.ncalign.proto.v1.PolicyServiceGrpc;
import dev.ncalign.proto.v1.PushWeightsResponse;
import dev.ncalign.proto.v1.WeightChunk;
import dev.ncalign.proto.v1.WeightHeader;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One PushWeights call timed from the client's side: from opening the stream to the response.
 * Chunks are sent as gRPC flow control allows (the way a real publisher streams a large file), from
 * bytes already in memory, so neither disk nor hashing is part of the time.
 */
final class SwapPushClient {

  /**
   * @param clientSeconds stream opened to response received
   * @param serverLoadSeconds the server's own verify + load + swap time ({@code load_seconds})
   * @param liveVersion the version the server reports live
   */
  record Result(double clientSeconds, double serverLoadSeconds, long liveVersion) {}

  private final ManagedChannel channel;
  private final byte[] weights;
  private final String sha256;
  private final int chunkBytes;

  SwapPushClient(ManagedChannel channel, byte[] weights, int chunkBytes) {
    this.channel = channel;
    this.weights = weights;
    this.sha256 = Sha256.hex(weights);
    this.chunkBytes = chunkBytes;
  }

  /** Pushes the weights as {@code version}; throws if the server refuses them. */
  Result push(long version) {
    WeightHeader header =
        WeightHeader.newBuilder()
            .setVersion(version)
            .setFormat("safetensors")
            .setTotalBytes(weights.length)
            .setSha256Hex(sha256)
            .build();
    CompletableFuture<PushWeightsResponse> response = new CompletableFuture<>();
    long start = System.nanoTime();
    PolicyServiceGrpc.newStub(channel)
        .withDeadlineAfter(10, TimeUnit.MINUTES)
        .pushWeights(new Sender(header, response));
    try {
      PushWeightsResponse done = response.get(10, TimeUnit.MINUTES);
      return new Result(
          (System.nanoTime() - start) / 1e9, done.getLoadSeconds(), done.getLiveVersion());
    } catch (ExecutionException e) {
      throw new IllegalStateException("push of version " + version + " failed", e.getCause());
    } catch (TimeoutException e) {
      throw new IllegalStateException("push of version " + version + " took over 10 minutes", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** Writes the header, then slices, whenever the transport is ready for more. */
  private final class Sender implements ClientResponseObserver<WeightChunk, PushWeightsResponse> {
    private final WeightHeader header;
    private final CompletableFuture<PushWeightsResponse> response;

    /** Bytes sent; -1 before the header. Touched only by the onReady handler (serialised). */
    private int sent = -1;

    Sender(WeightHeader header, CompletableFuture<PushWeightsResponse> response) {
      this.header = header;
      this.response = response;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<WeightChunk> requests) {
      requests.setOnReadyHandler(
          () -> {
            while (requests.isReady() && sent <= weights.length) {
              if (sent < 0) {
                requests.onNext(WeightChunk.newBuilder().setHeader(header).build());
                sent = 0;
              } else if (sent < weights.length) {
                int n = Math.min(chunkBytes, weights.length - sent);
                requests.onNext(
                    WeightChunk.newBuilder()
                        .setData(ByteString.copyFrom(weights, sent, n))
                        .build());
                sent += n;
              } else {
                requests.onCompleted();
                sent++;
              }
            }
          });
    }

    @Override
    public void onNext(PushWeightsResponse value) {
      response.complete(value);
    }

    @Override
    public void onError(Throwable t) {
      response.completeExceptionally(t);
    }

    @Override
    public void onCompleted() {}
  }
}

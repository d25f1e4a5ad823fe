package dev.ncalign.orchestrator.client;

import com.google.protobuf.UnsafeByteOperations;
import dev.ncalign.proto.v1.PolicyServiceGrpc;
import dev.ncalign.proto.v1.PushWeightsResponse;
import dev.ncalign.proto.v1.WeightChunk;
import dev.ncalign.proto.v1.WeightHeader;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Streams one weight file to one policy replica: the header, then 1 MiB slices of the file. Slices
 * are sent only while the transport is ready for more, so a slow replica never makes the client
 * buffer the whole file a second time; slices wrap the caller's array without copying it.
 */
final class WeightUpload implements ClientResponseObserver<WeightChunk, PushWeightsResponse> {

  static final int CHUNK_BYTES = 1 << 20;

  private final WeightHeader header;
  private final byte[] data;
  private final CompletableFuture<PushWeightsResponse> result = new CompletableFuture<>();
  private ClientCallStreamObserver<WeightChunk> requests;
  private PushWeightsResponse response;
  private boolean headerSent;
  private int offset;
  private volatile boolean finished;

  private WeightUpload(WeightHeader header, byte[] data) {
    this.header = header;
    this.data = data;
  }

  /**
   * Uploads and waits for the replica's answer (which comes after its verify, load and swap).
   *
   * @throws io.grpc.StatusRuntimeException with the replica's status on failure
   */
  static PushWeightsResponse push(Channel channel, WeightHeader header, byte[] data) {
    WeightUpload upload = new WeightUpload(header, data);
    PolicyServiceGrpc.newStub(channel).pushWeights(upload);
    try {
      return upload.result.get();
    } catch (ExecutionException e) {
      throw Status.fromThrowable(e.getCause()).asRuntimeException();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      upload.requests.cancel("interrupted", e);
      throw Status.CANCELLED.withCause(e).asRuntimeException();
    }
  }

  @Override
  public void beforeStart(ClientCallStreamObserver<WeightChunk> stream) {
    requests = stream;
    stream.setOnReadyHandler(this::sendWhileReady);
  }

  /** Runs on gRPC's call executor, serialized with the response callbacks. */
  private void sendWhileReady() {
    while (!finished && requests.isReady()) {
      if (!headerSent) {
        requests.onNext(WeightChunk.newBuilder().setHeader(header).build());
        headerSent = true;
      } else if (offset < data.length) {
        int size = Math.min(CHUNK_BYTES, data.length - offset);
        requests.onNext(
            WeightChunk.newBuilder()
                .setData(UnsafeByteOperations.unsafeWrap(data, offset, size))
                .build());
        offset += size;
      } else {
        requests.onCompleted();
        finished = true;
      }
    }
  }

  @Override
  public void onNext(PushWeightsResponse value) {
    response = value;
  }

  @Override
  public void onError(Throwable t) {
    finished = true;
    result.completeExceptionally(t);
  }

  @Override
  public void onCompleted() {
    finished = true;
    if (response == null) {
      result.completeExceptionally(
          Status.INTERNAL.withDescription("no response to PushWeights").asRuntimeException());
    } else {
      result.complete(response);
    }
  }
}

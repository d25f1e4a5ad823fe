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
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Streams one weight file to one policy replica: the header, then the file in slices of at most
 * {@link #CHUNK_BYTES} as the {@link WeightSource} writes it. The writing thread waits while the
 * transport is not ready for more, so a slow replica holds the writer back instead of making the
 * client buffer the file: the client never holds more than one slice (plus the one tensor the
 * source is writing).
 */
final class WeightUpload implements ClientResponseObserver<WeightChunk, PushWeightsResponse> {

  static final int CHUNK_BYTES = 1 << 20;

  private final int chunkBytes;
  private final Object ready = new Object();
  private final CompletableFuture<PushWeightsResponse> result = new CompletableFuture<>();
  private ClientCallStreamObserver<WeightChunk> requests;
  private PushWeightsResponse response;
  private volatile boolean finished;

  private WeightUpload(int chunkBytes) {
    this.chunkBytes = chunkBytes;
  }

  /**
   * Uploads and waits for the replica's answer (which comes after its verify, load and swap).
   *
   * @throws io.grpc.StatusRuntimeException with the replica's status on failure
   */
  static PushWeightsResponse push(Channel channel, WeightHeader header, WeightSource source) {
    return push(channel, header, source, CHUNK_BYTES);
  }

  /** As {@link #push(Channel, WeightHeader, WeightSource)}, with slices of {@code chunkBytes}. */
  static PushWeightsResponse push(
      Channel channel, WeightHeader header, WeightSource source, int chunkBytes) {
    WeightUpload upload = new WeightUpload(chunkBytes);
    PolicyServiceGrpc.newStub(channel).pushWeights(upload);
    try {
      upload.send(header, source);
      return upload.result.get();
    } catch (ExecutionException e) {
      throw Status.fromThrowable(e.getCause()).asRuntimeException();
    } catch (InterruptedException | InterruptedIOException e) {
      Thread.currentThread().interrupt();
      upload.requests.cancel("interrupted", e);
      throw Status.CANCELLED.withCause(e).asRuntimeException();
    } catch (IOException | RuntimeException e) {
      upload.requests.cancel("cannot write the weights", e);
      throw Status.INTERNAL
          .withDescription("cannot write the weights: " + e.getMessage())
          .withCause(e)
          .asRuntimeException();
    }
  }

  @Override
  public void beforeStart(ClientCallStreamObserver<WeightChunk> stream) {
    requests = stream;
    stream.setOnReadyHandler(this::wakeWriter);
  }

  /** Header, slices as the source writes them, end of stream; stops early if the replica failed. */
  private void send(WeightHeader header, WeightSource source) throws IOException {
    if (!awaitReady()) {
      return;
    }
    requests.onNext(WeightChunk.newBuilder().setHeader(header).build());
    Slicer slicer = new Slicer();
    try {
      source.writeTo(slicer);
      slicer.flush();
    } catch (ReplicaFinished e) {
      return; // the replica answered (an error) before the end; result holds why
    }
    requests.onCompleted();
  }

  /** Waits until the transport takes more; false once the call has ended (then send nothing). */
  private boolean awaitReady() throws InterruptedIOException {
    synchronized (ready) {
      while (!finished && !requests.isReady()) {
        try {
          ready.wait();
        } catch (InterruptedException e) {
          throw new InterruptedIOException("interrupted while pushing weights");
        }
      }
      return !finished;
    }
  }

  private void wakeWriter() {
    synchronized (ready) {
      ready.notifyAll();
    }
  }

  /** Cuts what the source writes into slices and sends each when the transport is ready. */
  private final class Slicer extends OutputStream {
    private byte[] slice = new byte[chunkBytes];
    private int filled;

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      while (len > 0) {
        int n = Math.min(len, slice.length - filled);
        System.arraycopy(b, off, slice, filled, n);
        filled += n;
        off += n;
        len -= n;
        if (filled == slice.length) {
          flush();
        }
      }
    }

    @Override
    public void flush() throws IOException {
      if (filled == 0) {
        return;
      }
      if (!awaitReady()) {
        throw new ReplicaFinished();
      }
      // The message wraps the slice without copying, so the next slice needs a fresh array.
      requests.onNext(
          WeightChunk.newBuilder()
              .setData(UnsafeByteOperations.unsafeWrap(slice, 0, filled))
              .build());
      slice = new byte[chunkBytes];
      filled = 0;
    }
  }

  /** Thrown through the source to stop it once the replica has ended the call. */
  private static final class ReplicaFinished extends IOException {
    ReplicaFinished() {
      super("the replica ended the push");
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
    wakeWriter();
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
    wakeWriter();
  }
}

package dev.ncalign.serving;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.MethodDescriptor;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.concurrent.TimeUnit;

/**
 * Sends bytes as a unary request, unchecked: what a client with another protobuf library (or none)
 * could put on the wire, e.g. a {@code string} field holding invalid UTF-8, which protobuf-java's
 * own builders refuse to write.
 */
public final class RawRequests {

  private RawRequests() {}

  /** Calls {@code method} with {@code message} as its serialized request (30 s deadline). */
  public static <R> R call(Channel channel, MethodDescriptor<?, R> method, byte[] message) {
    MethodDescriptor<byte[], R> raw =
        method.toBuilder(new RawBytes(), method.getResponseMarshaller()).build();
    return ClientCalls.blockingUnaryCall(
        channel, raw, CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), message);
  }

  private static final class RawBytes implements MethodDescriptor.Marshaller<byte[]> {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}

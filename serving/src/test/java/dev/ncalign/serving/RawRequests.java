package dev.ncalign.serving;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.MethodDescriptor;
import io.grpc.stub.ClientCalls;
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
        method.toBuilder(RequestParsing.RAW_BYTES, method.getResponseMarshaller()).build();
    return ClientCalls.blockingUnaryCall(
        channel, raw, CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), message);
  }
}

package dev.ncalign.serving;

import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses requests in the call instead of in the transport, so that a message that is not a valid
 * request (truncated bytes, a {@code string} field holding invalid UTF-8) ends the call with
 * INVALID_ARGUMENT naming the message type. grpc-java answers a marshaller that throws with {@code
 * UNKNOWN: Application error processing RPC} and logs a stack trace, which tells the caller nothing
 * and the operator too much.
 *
 * <p>Each method is re-bound with a pass-through byte marshaller and parsed with its own marshaller
 * in the listener; the service descriptor keeps its name and schema (reflection reads it). This is
 * the shape of grpc-java's {@code ServerInterceptors.useMarshalledMessages}, with the failure
 * handled.
 */
public final class RequestParsing {

  /** Bytes as they are, unparsed: here the listener parses them; a test client sends them raw. */
  public static final MethodDescriptor.Marshaller<byte[]> RAW_BYTES =
      new MethodDescriptor.Marshaller<>() {
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
      };

  private RequestParsing() {}

  /** {@code service} with every request parsed in the call. */
  public static ServerServiceDefinition parseInCall(ServerServiceDefinition service) {
    ServiceDescriptor original = service.getServiceDescriptor();
    List<ServerMethodDefinition<byte[], ?>> methods = new ArrayList<>();
    for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
      methods.add(rebind(method));
    }
    ServiceDescriptor.Builder descriptor =
        ServiceDescriptor.newBuilder(original.getName())
            .setSchemaDescriptor(original.getSchemaDescriptor());
    methods.forEach(m -> descriptor.addMethod(m.getMethodDescriptor()));
    ServerServiceDefinition.Builder rebound = ServerServiceDefinition.builder(descriptor.build());
    methods.forEach(rebound::addMethod);
    return rebound.build();
  }

  private static <Q, R> ServerMethodDefinition<byte[], R> rebind(
      ServerMethodDefinition<Q, R> definition) {
    MethodDescriptor<Q, R> method = definition.getMethodDescriptor();
    MethodDescriptor<byte[], R> raw =
        method.toBuilder(RAW_BYTES, method.getResponseMarshaller()).build();
    ServerCallHandler<Q, R> handler = definition.getServerCallHandler();
    return ServerMethodDefinition.create(
        raw, (call, headers) -> new ParsingListener<>(method, call, headers, handler));
  }

  /**
   * Parses each message before the service's listener sees it; drops the call on the first bad one.
   */
  private static final class ParsingListener<Q, R> extends ServerCall.Listener<byte[]> {
    private final MethodDescriptor<Q, R> method;
    private final ServerCall<byte[], R> call;
    private final ServerCall.Listener<Q> delegate;
    private boolean refused;

    ParsingListener(
        MethodDescriptor<Q, R> method,
        ServerCall<byte[], R> call,
        Metadata headers,
        ServerCallHandler<Q, R> handler) {
      this.method = method;
      this.call = call;
      this.delegate = handler.startCall(new TypedCall<>(call, method), headers);
    }

    @Override
    public void onMessage(byte[] message) {
      if (refused) {
        return;
      }
      Q request;
      try {
        request = method.parseRequest(new ByteArrayInputStream(message));
      } catch (RuntimeException e) {
        refused = true;
        call.close(
            Status.INVALID_ARGUMENT.withDescription(
                "request is not a valid " + method.getBareMethodName() + " message: " + reason(e)),
            new Metadata());
        return;
      }
      delegate.onMessage(request);
    }

    @Override
    public void onHalfClose() {
      if (!refused) {
        delegate.onHalfClose();
      }
    }

    @Override
    public void onReady() {
      if (!refused) {
        delegate.onReady();
      }
    }

    @Override
    public void onCancel() {
      delegate.onCancel();
    }

    @Override
    public void onComplete() {
      delegate.onComplete();
    }

    /** The protobuf parser's own words (e.g. "Protocol message had invalid UTF-8."). */
    private static String reason(RuntimeException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    }
  }

  /** The call as the service expects it: typed requests, its own method descriptor. */
  private static final class TypedCall<Q, R> extends ServerCall<Q, R> {
    private final ServerCall<byte[], R> call;
    private final MethodDescriptor<Q, R> method;

    TypedCall(ServerCall<byte[], R> call, MethodDescriptor<Q, R> method) {
      this.call = call;
      this.method = method;
    }

    @Override
    public MethodDescriptor<Q, R> getMethodDescriptor() {
      return method;
    }

    @Override
    public void request(int numMessages) {
      call.request(numMessages);
    }

    @Override
    public void sendHeaders(Metadata headers) {
      call.sendHeaders(headers);
    }

    @Override
    public void sendMessage(R message) {
      call.sendMessage(message);
    }

    @Override
    public void close(Status status, Metadata trailers) {
      call.close(status, trailers);
    }

    @Override
    public boolean isCancelled() {
      return call.isCancelled();
    }

    @Override
    public boolean isReady() {
      return call.isReady();
    }

    @Override
    public void setMessageCompression(boolean enabled) {
      call.setMessageCompression(enabled);
    }

    @Override
    public void setCompression(String compressor) {
      call.setCompression(compressor);
    }

    @Override
    public io.grpc.Attributes getAttributes() {
      return call.getAttributes();
    }

    @Override
    public String getAuthority() {
      return call.getAuthority();
    }
  }
}

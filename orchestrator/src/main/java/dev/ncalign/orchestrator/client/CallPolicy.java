package dev.ncalign.orchestrator.client;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import java.util.concurrent.TimeUnit;

/**
 * Puts the configured deadline (and the bearer token, if any) on every call made through a
 * replica's channel, so no call site can forget either.
 */
final class CallPolicy implements ClientInterceptor {

  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final ClientOptions options;

  CallPolicy(ClientOptions options) {
    this.options = options;
  }

  @Override
  public <Q, R> ClientCall<Q, R> interceptCall(
      MethodDescriptor<Q, R> method, CallOptions callOptions, Channel next) {
    CallOptions withDeadline =
        callOptions.getDeadline() != null
            ? callOptions
            : callOptions.withDeadlineAfter(options.deadline().toNanos(), TimeUnit.NANOSECONDS);
    ClientCall<Q, R> call = next.newCall(method, withDeadline);
    if (options.bearerToken() == null) {
      return call;
    }
    return new ForwardingClientCall.SimpleForwardingClientCall<>(call) {
      @Override
      public void start(Listener<R> listener, Metadata headers) {
        headers.put(AUTHORIZATION, "Bearer " + options.bearerToken());
        super.start(listener, headers);
      }
    };
  }
}

package dev.ncalign.policy.serving;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Set;

/**
 * Requires {@code authorization: Bearer <token>} metadata on the guarded methods (PushWeights: it
 * replaces the model); other calls pass. Compared in constant time.
 */
final class BearerTokenInterceptor implements ServerInterceptor {

  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final byte[] expected;
  private final Set<String> guardedMethods;

  BearerTokenInterceptor(String token, Set<String> guardedMethods) {
    this.expected = ("Bearer " + token).getBytes(StandardCharsets.US_ASCII);
    this.guardedMethods = Set.copyOf(guardedMethods);
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    if (guardedMethods.contains(call.getMethodDescriptor().getFullMethodName())) {
      String presented = headers.get(AUTHORIZATION);
      byte[] actual =
          presented == null ? new byte[0] : presented.getBytes(StandardCharsets.US_ASCII);
      if (!MessageDigest.isEqual(expected, actual)) {
        call.close(
            Status.UNAUTHENTICATED.withDescription(
                "PushWeights needs 'authorization: Bearer <token>'"),
            new Metadata());
        return new ServerCall.Listener<>() {};
      }
    }
    return next.startCall(call, headers);
  }
}

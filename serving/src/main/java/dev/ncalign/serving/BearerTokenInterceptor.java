package dev.ncalign.serving;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Set;

/**
 * Requires {@code authorization: Bearer <token>} metadata on the guarded methods (every method when
 * none are named) and closes other calls to them with UNAUTHENTICATED. Compared in constant time,
 * so response timing does not leak the token.
 */
public final class BearerTokenInterceptor implements ServerInterceptor {

  /** The metadata key clients put {@code Bearer <token>} under. */
  public static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final byte[] expected;
  private final Set<String> guardedMethods;

  /**
   * Guards the methods with these full names (e.g. {@code ncalign.v1.PolicyService/PushWeights});
   * an empty set guards every method.
   */
  public BearerTokenInterceptor(String token, Set<String> guardedMethods) {
    if (token.isBlank()) {
      throw new IllegalArgumentException("the bearer token must not be empty");
    }
    this.expected = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
    this.guardedMethods = Set.copyOf(guardedMethods);
  }

  /**
   * The token in {@code file} (surrounding white space dropped) guarding {@code guardedMethods}.
   *
   * @param flag the command-line flag that named the file, for the error message
   * @throws IllegalArgumentException if the file is empty
   * @throws UncheckedIOException if it cannot be read
   */
  public static BearerTokenInterceptor fromFile(
      Path file, String flag, Set<String> guardedMethods) {
    String token;
    try {
      token = Files.readString(file).strip();
    } catch (IOException e) {
      throw new UncheckedIOException(flag + ": cannot read " + file, e);
    }
    if (token.isEmpty()) {
      throw new IllegalArgumentException(flag + " " + file + " is empty");
    }
    return new BearerTokenInterceptor(token, guardedMethods);
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    if (guardedMethods.isEmpty() || guardedMethods.contains(method)) {
      String presented = headers.get(AUTHORIZATION);
      byte[] actual = presented == null ? new byte[0] : presented.getBytes(StandardCharsets.UTF_8);
      if (!MessageDigest.isEqual(expected, actual)) {
        call.close(
            Status.UNAUTHENTICATED.withDescription(
                call.getMethodDescriptor().getBareMethodName()
                    + " needs 'authorization: Bearer <token>' (missing or wrong token)"),
            new Metadata());
        return new ServerCall.Listener<>() {};
      }
    }
    return next.startCall(call, headers);
  }
}

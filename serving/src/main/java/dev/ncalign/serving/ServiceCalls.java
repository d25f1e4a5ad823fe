package dev.ncalign.serving;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a gRPC adapter answers a unary call: run the plain class, send its result, or end the call
 * with the status its failure maps to. A {@link RefusedRequestException} (bad input, stale version)
 * becomes its own code with its message; anything else is the server's fault: INTERNAL, logged once
 * with its stack trace.
 */
public final class ServiceCalls {

  private static final Logger LOG = LoggerFactory.getLogger(ServiceCalls.class);

  private ServiceCalls() {}

  /** Answers with what {@code call} returns, or with the status of what it throws. */
  public static <T> void respond(StreamObserver<T> observer, Supplier<T> call) {
    T response;
    try {
      response = call.get();
    } catch (RuntimeException e) {
      observer.onError(toStatus(e).asRuntimeException());
      return;
    }
    observer.onNext(response);
    observer.onCompleted();
  }

  /** Answers once {@code pending} completes, with its value or the status of its failure. */
  public static <T> void respondWhenDone(StreamObserver<T> observer, CompletableFuture<T> pending) {
    pending.whenComplete(
        (response, error) -> {
          if (error != null) {
            observer.onError(toStatus(error).asRuntimeException());
          } else {
            observer.onNext(response);
            observer.onCompleted();
          }
        });
  }

  /** The status a call that failed with {@code error} ends with. */
  public static Status toStatus(Throwable error) {
    Throwable e =
        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    if (e instanceof StatusRuntimeException sre) {
      return sre.getStatus();
    }
    if (e instanceof StatusException se) {
      return se.getStatus();
    }
    if (e instanceof RefusedRequestException refused) {
      return Status.fromCode(refused.code()).withDescription(refused.getMessage());
    }
    LOG.error("request failed", e);
    return Status.INTERNAL.withDescription(e.toString());
  }
}

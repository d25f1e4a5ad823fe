package dev.ncalign.serving;

import io.grpc.Status;

/**
 * A request the server turns down for a reason the caller can act on; {@link ServiceCalls} maps it
 * to {@link #code()} with the message as the description, and logs nothing (it is not the server's
 * fault).
 */
public class RefusedRequestException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final Status.Code code;

  public RefusedRequestException(Status.Code code, String message) {
    super(message);
    this.code = code;
  }

  /** The gRPC status code the call ends with. */
  public Status.Code code() {
    return code;
  }
}

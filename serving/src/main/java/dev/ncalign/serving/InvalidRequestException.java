package dev.ncalign.serving;

import io.grpc.Status;

/**
 * A request the server refuses as malformed (gRPC INVALID_ARGUMENT); the message names the proto
 * field first, e.g. {@code items[3].prompt: 40000 characters exceed the limit of 32768}.
 */
public class InvalidRequestException extends RefusedRequestException {

  private static final long serialVersionUID = 1L;

  public InvalidRequestException(String field, String problem) {
    super(Status.Code.INVALID_ARGUMENT, field + ": " + problem);
  }
}

package dev.ncalign.policy.serving;

/**
 * A request the server refuses as malformed (gRPC INVALID_ARGUMENT); the message names the field.
 */
public class InvalidRequestException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public InvalidRequestException(String field, String problem) {
    super(field + ": " + problem);
  }
}

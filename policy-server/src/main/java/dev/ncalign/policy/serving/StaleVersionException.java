package dev.ncalign.policy.serving;

import dev.ncalign.serving.RefusedRequestException;
import io.grpc.Status;

/** A weight push whose version is not above the live one (gRPC FAILED_PRECONDITION). */
public final class StaleVersionException extends RefusedRequestException {

  private static final long serialVersionUID = 1L;

  public StaleVersionException(long pushed, long live) {
    super(
        Status.Code.FAILED_PRECONDITION,
        "header.version: " + pushed + " is not greater than the live version " + live);
  }
}

package dev.ncalign.policy.serving;

import dev.ncalign.serving.RefusedRequestException;
import io.grpc.Status;

/**
 * A LoRA adapter push after a full push replaced the base weights it would apply to (gRPC
 * FAILED_PRECONDITION).
 */
public final class BaseReplacedException extends RefusedRequestException {

  private static final long serialVersionUID = 1L;

  public BaseReplacedException(long fullVersion) {
    super(
        Status.Code.FAILED_PRECONDITION,
        "header.kind: LORA_ADAPTER applies onto the base weights, which the full push of version "
            + fullVersion
            + " replaced; restart the server to serve adapters again");
  }
}

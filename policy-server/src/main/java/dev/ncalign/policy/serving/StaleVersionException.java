package dev.ncalign.policy.serving;

/** A weight push whose version is not above the live one (gRPC FAILED_PRECONDITION). */
public final class StaleVersionException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public StaleVersionException(long pushed, long live) {
    super("header.version: " + pushed + " is not greater than the live version " + live);
  }
}

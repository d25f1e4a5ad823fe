package dev.ncalign.orchestrator.config;

/**
 * A run configuration that cannot be used. The message is one line that starts with {@code config
 * error:} and names the field path, so the CLI can print it as is and exit.
 */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * @param detail what is wrong, starting with the field path, e.g. {@code loss.beta must be > 0
   *     (got -1)}
   */
  public ConfigException(String detail) {
    super("config error: " + detail);
  }

  /** Same, keeping the parser error that led to it for debugging. */
  public ConfigException(String detail, Throwable cause) {
    super("config error: " + detail, cause);
  }
}

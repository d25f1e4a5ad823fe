package dev.ncalign.cli;

import dev.ncalign.orchestrator.config.ConfigException;
import java.util.LinkedHashSet;
import java.util.Set;

/** The one line the command line prints for a failure: what failed and, briefly, why. */
final class FailureMessage {
  private FailureMessage() {}

  /**
   * A config error as it is ("config error: loss.beta must be > 0 ..."); anything else as {@code
   * error: } followed by the first line of each distinct message down the cause chain (a cause
   * often names what the top message does not, e.g. the file or the refused connection).
   */
  static String of(Throwable failure) {
    if (failure instanceof ConfigException) {
      return firstLine(failure.getMessage());
    }
    Set<String> parts = new LinkedHashSet<>();
    for (Throwable t = failure; t != null && parts.size() < 3; t = t.getCause()) {
      String message = t.getMessage();
      parts.add(
          message == null || message.isBlank() ? t.getClass().getSimpleName() : firstLine(message));
      if (t.getCause() == t) {
        break;
      }
    }
    return "error: " + String.join(": ", parts);
  }

  private static String firstLine(String message) {
    int newline = message.indexOf('\n');
    return (newline < 0 ? message : message.substring(0, newline)).strip();
  }
}

package dev.ncalign.lm.sampling;

import dev.ncalign.lm.model.TextCodec;
import java.util.List;

/**
 * Ends a completion once its decoded text contains a stop string, removing the tokens that formed
 * it.
 */
final class StopStrings {

  private final List<String> stops;

  StopStrings(List<String> stops) {
    this.stops = stops;
  }

  /**
   * If the row's text now contains a stop string, drops trailing tokens (and their log-probs) until
   * it no longer does and returns true.
   */
  boolean trim(Sampler.Row row, TextCodec codec) {
    if (stops.isEmpty() || !containsStop(codec.decode(row.tokenArray()))) {
      return false;
    }
    do {
      row.tokens.remove(row.tokens.size() - 1);
      row.logprobs.remove(row.logprobs.size() - 1);
    } while (!row.tokens.isEmpty() && containsStop(codec.decode(row.tokenArray())));
    return true;
  }

  private boolean containsStop(String text) {
    return stops.stream().anyMatch(text::contains);
  }
}

package dev.ncalign.orchestrator.source;

import dev.ncalign.orchestrator.train.ScoredResponse;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Length and diversity of a round's responses: reward hacking shows here first (answers shrink to
 * one word, or every response becomes the same text).
 *
 * @param meanLength mean response length in tokens
 * @param distinct2 distinct token bigrams / all token bigrams over every response (1 = no bigram
 *     repeats)
 */
public record ResponseStats(double meanLength, double distinct2) {

  /** Statistics of these responses' token ids. */
  public static ResponseStats of(List<ScoredResponse> responses) {
    long tokens = 0;
    long bigrams = 0;
    Set<Long> distinct = new HashSet<>();
    for (ScoredResponse response : responses) {
      int[] ids = response.tokenIds();
      tokens += ids.length;
      for (int i = 0; i + 1 < ids.length; i++) {
        distinct.add(((long) ids[i] << 32) | (ids[i + 1] & 0xffffffffL));
        bigrams++;
      }
    }
    return new ResponseStats(
        responses.isEmpty() ? 0 : tokens / (double) responses.size(),
        bigrams == 0 ? 0 : distinct.size() / (double) bigrams);
  }
}

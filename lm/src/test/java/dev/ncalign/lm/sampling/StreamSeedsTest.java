package dev.ncalign.lm.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class StreamSeedsTest {
  private static final int DRAWS = 16;

  private static List<Long> draws(long streamSeed) {
    SplittableRandom random = new SplittableRandom(streamSeed);
    return random.longs(DRAWS).boxed().toList();
  }

  @Test
  void noRowsStreamIsAnotherRowsShifted() {
    // Every draw of rows (round, prompt, sample) over consecutive rounds: with the old seeding,
    // round r + 1's stream was round r's shifted by one draw.
    Set<Long> seen = new HashSet<>();
    int total = 0;
    for (long round = 0; round < 8; round++) {
      for (int prompt = 0; prompt < 8; prompt++) {
        for (int sample = 0; sample < 4; sample++) {
          seen.addAll(draws(StreamSeeds.of(StreamSeeds.of(3, round), prompt, sample)));
          total += DRAWS;
        }
      }
    }
    assertEquals(total, seen.size(), "no draw repeats across rows and rounds");
  }

  @Test
  void theOldSeedingSharedStreamsBetweenConsecutiveSeeds() {
    // What the test above guards against (the seeding Sampler used before).
    List<Long> roundR = draws(5 * 0x9E3779B97F4A7C15L);
    List<Long> roundNext = draws(6 * 0x9E3779B97F4A7C15L);
    assertEquals(roundR.subList(1, DRAWS), roundNext.subList(0, DRAWS - 1));
  }

  @Test
  void zeroIsASeedLikeAnyOther() {
    assertEquals(StreamSeeds.of(0, 1, 2), StreamSeeds.of(0, 1, 2), "reproducible");
    assertTrue(StreamSeeds.of(0, 1, 2) != StreamSeeds.of(1, 1, 2));
    assertTrue(StreamSeeds.of(0, 1, 2) != StreamSeeds.of(0, 2, 1), "coordinates are ordered");
  }
}

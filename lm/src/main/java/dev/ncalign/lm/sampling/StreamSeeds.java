package dev.ncalign.lm.sampling;

/**
 * Seeds of independent random streams derived from a seed and coordinates (round, prompt index,
 * sample index, ...) through a real mixing function, so that nearby inputs give unrelated streams.
 *
 * <p>Why not {@code new SplittableRandom(seed * 0x9E3779B97F4A7C15L + ...)}: that constant is
 * SplittableRandom's own step, so seed s + 1 starts exactly where seed s is after one draw, and a
 * round seeded s + 1 replays the previous round's draws shifted by one.
 */
public final class StreamSeeds {
  private StreamSeeds() {}

  /** A seed for the stream at {@code coordinates} under {@code seed}; every seed, 0 too, is one. */
  public static long of(long seed, long... coordinates) {
    long h = mix(seed ^ 0x5851F42D4C957F2DL);
    for (long c : coordinates) {
      h = mix(h ^ mix(c + 0x14057B7EF767814FL));
    }
    return h;
  }

  /** SplitMix64's finaliser (Stafford's variant 13): a bijection with full avalanche. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}

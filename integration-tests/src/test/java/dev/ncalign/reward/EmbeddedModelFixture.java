package dev.ncalign.reward;

import dev.ncalign.demo.EmbeddedRewardModelBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * The embedded reward model, built once per test JVM under target/ (the builder skips an up-to-date
 * dir).
 */
public final class EmbeddedModelFixture {

  /** Seed the tests build with. */
  public static final long SEED = 7;

  private static Path dir;

  private EmbeddedModelFixture() {}

  /** The model directory, built on first use. */
  public static synchronized Path dir() {
    if (dir == null) {
      try {
        dir = EmbeddedRewardModelBuilder.build(Path.of("target", "embedded-reward-model"), SEED);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return dir;
  }
}

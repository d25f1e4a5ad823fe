package dev.ncalign.lm.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The on-device chooser picks what the Java chooser it replaced picked, for the same streams. */
class TokenChooserTest {

  private static final int ROWS = 24;
  private static final int VOCAB = 997;
  private static final int STEPS = 40;

  private static NDManager manager;

  @BeforeAll
  static void open() {
    manager = NDManager.newBaseManager(Device.cpu());
  }

  @AfterAll
  static void close() {
    manager.close();
  }

  @Test
  void sameIdsAndLogprobsAsTheJavaChooserOnFixedSeeds() {
    List<SamplingOptions> settings =
        List.of(
            SamplingOptions.of(1, 0),
            SamplingOptions.greedy(1),
            new SamplingOptions(1, 0.7f, 1f, 5, 0, List.of()),
            new SamplingOptions(1, 1f, 0.9f, 0, 0, List.of()),
            new SamplingOptions(1, 1.3f, 0.8f, 40, 0, List.of()),
            new SamplingOptions(1, 0.5f, 1e-6f, 0, 0, List.of()));
    Random logitSource = new Random(3);
    for (SamplingOptions options : settings) {
      TokenChooser device = new TokenChooser(options);
      ReferenceTokenChooser java = new ReferenceTokenChooser(options);
      SplittableRandom[] deviceStreams = streams(ROWS);
      SplittableRandom[] javaStreams = streams(ROWS);
      for (int step = 0; step < STEPS; step++) {
        float[] logits = logits(logitSource, ROWS, VOCAB, 1 + step % 4);
        int[] expected = new int[ROWS];
        float[] expectedLogprobs = new float[ROWS];
        for (int r = 0; r < ROWS; r++) {
          expected[r] = java.choose(logits, r * VOCAB, VOCAB, javaStreams[r]);
          expectedLogprobs[r] =
              (float) ReferenceTokenChooser.logprob(logits, r * VOCAB, VOCAB, expected[r]);
        }
        try (NDManager scratch = manager.newSubManager()) {
          TokenChooser.Choice choice =
              device.choose(
                  scratch.create(logits, new Shape(ROWS, VOCAB)), uniforms(device, deviceStreams));
          assertArrayEquals(expected, choice.ids(), options + " step " + step);
          for (int r = 0; r < ROWS; r++) {
            assertEquals(expectedLogprobs[r], choice.logprobs()[r], 1e-5);
          }
        }
      }
    }
  }

  @Test
  void aRowsChoiceDoesNotDependOnTheOtherRows() {
    TokenChooser chooser = new TokenChooser(new SamplingOptions(1, 0.9f, 0.95f, 50, 0, List.of()));
    float[] logits = logits(new Random(8), ROWS, VOCAB, 2);
    double[] u = new double[ROWS];
    Arrays.setAll(u, r -> new SplittableRandom(r).nextDouble());
    try (NDManager step = manager.newSubManager()) {
      int[] all = chooser.choose(step.create(logits, new Shape(ROWS, VOCAB)), u).ids();
      for (int r = 0; r < ROWS; r += 5) {
        float[] row = Arrays.copyOfRange(logits, r * VOCAB, (r + 1) * VOCAB);
        int alone =
            chooser.choose(step.create(row, new Shape(1, VOCAB)), new double[] {u[r]}).ids()[0];
        assertEquals(all[r], alone, "row " + r);
      }
    }
  }

  @Test
  void samplingNeedsOneUniformPerRow() {
    TokenChooser chooser = new TokenChooser(SamplingOptions.of(1, 0));
    try (NDManager step = manager.newSubManager()) {
      NDArray logits = step.zeros(new Shape(2, 5));
      assertThrows(IllegalArgumentException.class, () -> chooser.choose(logits, new double[1]));
    }
  }

  private static double[] uniforms(TokenChooser chooser, SplittableRandom[] streams) {
    if (!chooser.needsUniforms()) {
      return null;
    }
    double[] u = new double[streams.length];
    for (int r = 0; r < u.length; r++) {
      u[r] = streams[r].nextDouble();
    }
    return u;
  }

  private static SplittableRandom[] streams(int rows) {
    SplittableRandom[] streams = new SplittableRandom[rows];
    Arrays.setAll(streams, r -> new SplittableRandom(1000 + r));
    return streams;
  }

  /** Gaussian logits of the given spread: flat to peaked distributions. */
  private static float[] logits(Random random, int rows, int vocab, double scale) {
    float[] logits = new float[rows * vocab];
    for (int i = 0; i < logits.length; i++) {
      logits[i] = (float) (random.nextGaussian() * scale);
    }
    return logits;
  }
}

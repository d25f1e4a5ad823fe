package dev.ncalign.demo;

import dev.ncalign.demo.ReviewCorpus.Degeneration;
import dev.ncalign.demo.ReviewCorpus.Sentiment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Labelled (prompt, response) pairs from {@link ReviewCorpus}, with the reward the embedded model
 * is fitted to: positive 2, mixed 0, negative -2, every degenerate text -3 (below an honest
 * negative review, however many positive words it contains).
 */
public final class LabeledReviews {

  /** The kind of response and its intended rank: higher rank must get a higher reward. */
  public enum Kind {
    POSITIVE(3),
    MIXED(2),
    NEGATIVE(1),
    SHUFFLED(0),
    REPEATED_WORD(0),
    TRUNCATED(0),
    ONE_WORD(0),
    RUN_ON(0),
    KEYWORD_LIST(0),
    REPEATED_SENTENCE(0),
    EMPTY(0);

    private final int rank;

    Kind(int rank) {
      this.rank = rank;
    }

    /** 3 for positive down to 0 for degenerate. */
    public int rank() {
      return rank;
    }

    /** The regression target for this kind. */
    public float target() {
      return switch (rank) {
        case 3 -> 2f;
        case 2 -> 0f;
        case 1 -> -2f;
        default -> -3f;
      };
    }
  }

  /** One labelled pair. */
  public record Example(String prompt, String response, Kind kind) {}

  private LabeledReviews() {}

  /**
   * {@code count} examples: a fifth each positive, mixed and negative, two fifths degenerate of any
   * kind (eight kinds share them, and shuffled text is the hardest to tell from a real review).
   */
  public static List<Example> sample(Random rng, int count) {
    Kind[] degenerate =
        Arrays.stream(Kind.values()).filter(k -> k.rank() == 0).toArray(Kind[]::new);
    List<Example> examples = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      Kind kind = i % 5 < 3 ? Kind.values()[i % 5] : degenerate[rng.nextInt(degenerate.length)];
      examples.add(example(rng, kind));
    }
    return examples;
  }

  /** {@code perKind} examples of every kind, for evaluation. */
  public static List<Example> balanced(Random rng, int perKind) {
    List<Example> examples = new ArrayList<>();
    for (Kind kind : Kind.values()) {
      for (int i = 0; i < perKind; i++) {
        examples.add(example(rng, kind));
      }
    }
    return examples;
  }

  /** One example of the given kind about a random product. */
  public static Example example(Random rng, Kind kind) {
    String product = ReviewCorpus.products().get(rng.nextInt(ReviewCorpus.products().size()));
    String response =
        switch (kind) {
          case POSITIVE -> ReviewCorpus.response(rng, product, Sentiment.POSITIVE);
          case MIXED -> ReviewCorpus.response(rng, product, Sentiment.MIXED);
          case NEGATIVE -> ReviewCorpus.response(rng, product, Sentiment.NEGATIVE);
          case EMPTY -> "";
          default -> ReviewCorpus.degenerate(rng, product, Degeneration.valueOf(kind.name()));
        };
    return new Example(ReviewCorpus.prompt(product), response, kind);
  }
}

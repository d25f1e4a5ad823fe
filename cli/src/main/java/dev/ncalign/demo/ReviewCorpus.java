package dev.ncalign.demo;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Seeded generator of the demo task's synthetic text: short product reviews.
 *
 * <p>A prompt is a product name in one fixed frame ({@code "review of the blender :"}); a response
 * is a short review whose sentiment is positive, negative or mixed, or a degenerate text that a
 * policy could produce while gaming a naive reward (shuffled words, a repeated word, a cut-off
 * sentence, ...). All text is lower-case, with punctuation as separate tokens, so splitting on
 * whitespace yields exactly words of {@link #vocabulary()}: a word-level tokenizer covers it with
 * no unknown token.
 *
 * <p>The same generator feeds the reward model's training data and the policy's SFT corpus and
 * prompts, so every method is deterministic given the {@link Random} passed in.
 */
public final class ReviewCorpus {

  /** Sentiment of a fluent review. */
  public enum Sentiment {
    POSITIVE,
    NEGATIVE,
    MIXED
  }

  /**
   * Ways a response can be degenerate; every kind is built from positive words so it looks
   * rewardable.
   */
  public enum Degeneration {
    /** The words of a positive review in random order, ending with ".". */
    SHUFFLED,
    /** One positive word repeated 4–12 times, sometimes followed by ".". */
    REPEATED_WORD,
    /** A positive review cut off mid-sentence: no final ".". */
    TRUNCATED,
    /** A single positive word, sometimes followed by ".". */
    ONE_WORD,
    /**
     * Many positive clauses chained with "and" into one sentence far longer than {@link
     * #MAX_TOKENS}.
     */
    RUN_ON,
    /** A list of distinct positive words with no grammar, ending with ".". */
    KEYWORD_LIST,
    /** One short positive sentence said 3–6 times over. */
    REPEATED_SENTENCE
  }

  /** Fewest whitespace tokens (words and punctuation) in a fluent review. */
  public static final int MIN_TOKENS = 6;

  /** Most whitespace tokens (words and punctuation) in a fluent review. */
  public static final int MAX_TOKENS = 20;

  private static final String PROMPT_PREFIX = "review of the ";
  private static final String PROMPT_SUFFIX = " :";

  private static final List<String> PRODUCTS =
      List.of(
          "blender",
          "toaster",
          "kettle",
          "lamp",
          "backpack",
          "umbrella",
          "keyboard",
          "mouse",
          "monitor",
          "camera",
          "speaker",
          "charger",
          "jacket",
          "blanket",
          "pillow",
          "chair",
          "desk",
          "tent",
          "bicycle",
          "helmet",
          "watch",
          "phone",
          "tablet",
          "printer",
          "router",
          "vacuum",
          "microwave",
          "heater",
          "drill",
          "knife",
          "mug",
          "wallet",
          "suitcase",
          "scooter");
  private static final List<String> PARTS =
      List.of(
          "battery", "handle", "design", "price", "quality", "finish", "button", "cable", "case",
          "size");
  private static final List<String> INTENSIFIERS = List.of("very", "really", "quite", "truly");
  private static final List<String> POSITIVE_ADJECTIVES =
      List.of(
          "great",
          "excellent",
          "sturdy",
          "reliable",
          "comfortable",
          "solid",
          "perfect",
          "fantastic",
          "lovely",
          "wonderful");
  private static final List<String> NEGATIVE_ADJECTIVES =
      List.of(
          "flimsy",
          "cheap",
          "noisy",
          "awful",
          "terrible",
          "disappointing",
          "useless",
          "fragile",
          "poor",
          "bad");
  private static final List<String> POSITIVE_ADVERBS =
      List.of("well", "perfectly", "nicely", "smoothly", "flawlessly");
  private static final List<String> NEGATIVE_ADVERBS = List.of("poorly", "badly", "slowly");
  private static final List<String> LOGISTICS =
      List.of("setup", "shipping", "delivery", "assembly");
  private static final List<String> POSITIVE_LOGISTICS = List.of("fast", "easy", "quick", "simple");
  private static final List<String> NEGATIVE_LOGISTICS = List.of("slow", "painful", "confusing");
  private static final List<String> AUDIENCES =
      List.of("anyone", "everyone", "my friends", "my family");
  private static final List<String> DELAYS =
      List.of("after a week", "after two days", "after a month", "within an hour");
  private static final List<String> OPENERS = List.of("overall ,", "honestly ,", "so far ,");
  private static final List<String> POSITIVE_KEYWORDS =
      Stream.concat(POSITIVE_ADJECTIVES.stream(), Stream.of("love", "recommend", "best", "amazing"))
          .toList();

  /** Every clause shape, as a template whose {@code {x}} slots are filled from the lists above. */
  private static final List<String> POSITIVE_CLAUSES =
      List.of(
          "this {product} is {intensifier?} {posAdj}",
          "the {part} is {intensifier?} {posAdj}",
          "it works {posAdv}",
          "i love this {product}",
          "i really like this {product}",
          "i enjoy using this {product}",
          "i would recommend it to {audience}",
          "{logistics} was {posLogistics}",
          "it feels {intensifier?} {posAdj}",
          "it is worth every penny");

  private static final List<String> NEGATIVE_CLAUSES =
      List.of(
          "this {product} is {intensifier?} {negAdj}",
          "the {part} is {intensifier?} {negAdj}",
          "it works {negAdv}",
          "the {part} broke {delay}",
          "it stopped working {delay}",
          "i would not recommend it to {audience}",
          "{logistics} was {negLogistics}",
          "i returned this {product}",
          "i regret buying this {product}",
          "it is a waste of money");

  private static final List<String> VOCABULARY = buildVocabulary();

  private ReviewCorpus() {}

  /** The products prompts are about, in a fixed order. */
  public static List<String> products() {
    return PRODUCTS;
  }

  /** The prompt for one product, e.g. {@code "review of the blender :"}. */
  public static String prompt(String product) {
    return PROMPT_PREFIX + product + PROMPT_SUFFIX;
  }

  /** One prompt per product, in {@link #products()} order. */
  public static List<String> prompts() {
    return PRODUCTS.stream().map(ReviewCorpus::prompt).toList();
  }

  /** A uniformly random prompt. */
  public static String prompt(Random rng) {
    return prompt(pick(rng, PRODUCTS));
  }

  /**
   * The product a prompt of this corpus is about.
   *
   * @throws IllegalArgumentException if the text is not a prompt made by {@link #prompt(String)}
   */
  public static String productOf(String prompt) {
    if (prompt.startsWith(PROMPT_PREFIX) && prompt.endsWith(PROMPT_SUFFIX)) {
      String product =
          prompt.substring(PROMPT_PREFIX.length(), prompt.length() - PROMPT_SUFFIX.length());
      if (PRODUCTS.contains(product)) {
        return product;
      }
    }
    throw new IllegalArgumentException("not a review prompt: '" + prompt + "'");
  }

  /**
   * Every token the corpus can emit (words, plus punctuation such as "." "," ":"), lower-case,
   * sorted, without duplicates.
   */
  public static List<String> vocabulary() {
    return VOCABULARY;
  }

  /** A fluent review of a random product with the given sentiment. */
  public static String response(Random rng, Sentiment sentiment) {
    return response(rng, pick(rng, PRODUCTS), sentiment);
  }

  /**
   * A fluent review of {@code product}: one to three sentences, {@link #MIN_TOKENS}–{@link
   * #MAX_TOKENS} tokens, ending with ".". A mixed review has at least one positive and one negative
   * clause.
   */
  public static String response(Random rng, String product, Sentiment sentiment) {
    while (true) {
      List<String> tokens =
          switch (sentiment) {
            case POSITIVE -> sentences(rng, product, true);
            case NEGATIVE -> sentences(rng, product, false);
            case MIXED -> mixed(rng, product);
          };
      if (tokens.size() >= MIN_TOKENS && tokens.size() <= MAX_TOKENS) {
        return String.join(" ", tokens);
      }
    }
  }

  /** A degenerate response about a random product. */
  public static String degenerate(Random rng, Degeneration kind) {
    return degenerate(rng, pick(rng, PRODUCTS), kind);
  }

  /** A degenerate response of the given kind, built from positive words about {@code product}. */
  public static String degenerate(Random rng, String product, Degeneration kind) {
    List<String> tokens =
        switch (kind) {
          case SHUFFLED -> shuffled(rng, product);
          case REPEATED_WORD ->
              withOptionalPeriod(
                  rng, Collections.nCopies(4 + rng.nextInt(9), pick(rng, POSITIVE_KEYWORDS)));
          case TRUNCATED -> truncated(rng, product);
          case ONE_WORD -> withOptionalPeriod(rng, List.of(pick(rng, POSITIVE_KEYWORDS)));
          case RUN_ON -> runOn(rng, product);
          case KEYWORD_LIST -> keywordList(rng);
          case REPEATED_SENTENCE -> repeatedSentence(rng, product);
        };
    return String.join(" ", tokens);
  }

  private static List<String> sentences(Random rng, String product, boolean positive) {
    List<String> tokens = new ArrayList<>();
    // A fluent review never says the same clause twice; repetition is a degeneration of its own.
    Set<List<String>> said = new HashSet<>();
    int count = 1 + rng.nextInt(3);
    for (int s = 0; s < count; s++) {
      if (s > 0 && rng.nextInt(4) == 0) {
        tokens.addAll(words(pick(rng, OPENERS)));
      }
      tokens.addAll(freshClause(rng, product, positive, said));
      if (rng.nextBoolean()) {
        tokens.add("and");
        tokens.addAll(freshClause(rng, product, positive, said));
      }
      tokens.add(".");
    }
    return tokens;
  }

  private static List<String> freshClause(
      Random rng, String product, boolean positive, Set<List<String>> said) {
    while (true) {
      List<String> clause = clause(rng, product, positive);
      if (said.add(clause)) {
        return clause;
      }
    }
  }

  private static List<String> mixed(Random rng, String product) {
    boolean positiveFirst = rng.nextBoolean();
    Set<List<String>> said = new HashSet<>();
    List<String> tokens = new ArrayList<>(freshClause(rng, product, positiveFirst, said));
    tokens.add("but");
    tokens.addAll(freshClause(rng, product, !positiveFirst, said));
    tokens.add(".");
    if (rng.nextBoolean()) {
      tokens.addAll(words(pick(rng, OPENERS)));
      tokens.addAll(freshClause(rng, product, rng.nextBoolean(), said));
      tokens.add(".");
    }
    return tokens;
  }

  private static List<String> shuffled(Random rng, String product) {
    List<String> fluent = words(response(rng, product, Sentiment.POSITIVE));
    List<String> body = new ArrayList<>(fluent.subList(0, fluent.size() - 1));
    List<String> original = List.copyOf(body);
    while (body.equals(original)) {
      Collections.shuffle(body, rng);
    }
    body.add(".");
    return body;
  }

  private static List<String> truncated(Random rng, String product) {
    List<String> fluent = words(response(rng, product, Sentiment.POSITIVE));
    // Cut strictly inside the text and never right after punctuation, so the end is visibly
    // unfinished.
    int end = 2 + rng.nextInt(fluent.size() - 3);
    while (isPunctuation(fluent.get(end - 1))) {
      end--;
    }
    return fluent.subList(0, end);
  }

  private static List<String> runOn(Random rng, String product) {
    List<String> tokens = new ArrayList<>(clause(rng, product, true));
    while (tokens.size() <= 2 * MAX_TOKENS) {
      tokens.add("and");
      tokens.addAll(clause(rng, product, true));
    }
    tokens.add(".");
    return tokens;
  }

  private static List<String> repeatedSentence(Random rng, String product) {
    List<String> sentence = new ArrayList<>(clause(rng, product, true));
    sentence.add(".");
    List<String> tokens = new ArrayList<>();
    for (int i = 0, times = 3 + rng.nextInt(4); i < times; i++) {
      tokens.addAll(sentence);
    }
    return tokens;
  }

  private static List<String> keywordList(Random rng) {
    List<String> keywords = new ArrayList<>(POSITIVE_KEYWORDS);
    Collections.shuffle(keywords, rng);
    List<String> tokens = new ArrayList<>(keywords.subList(0, 5 + rng.nextInt(6)));
    tokens.add(".");
    return tokens;
  }

  private static List<String> withOptionalPeriod(Random rng, List<String> words) {
    List<String> tokens = new ArrayList<>(words);
    if (rng.nextBoolean()) {
      tokens.add(".");
    }
    return tokens;
  }

  private static List<String> clause(Random rng, String product, boolean positive) {
    String template = pick(rng, positive ? POSITIVE_CLAUSES : NEGATIVE_CLAUSES);
    List<String> tokens = new ArrayList<>();
    for (String slot : template.split(" ")) {
      tokens.addAll(words(fill(rng, slot, product)));
    }
    return tokens;
  }

  private static String fill(Random rng, String slot, String product) {
    return switch (slot) {
      case "{product}" -> product;
      case "{part}" -> pick(rng, PARTS);
      case "{intensifier?}" -> rng.nextBoolean() ? pick(rng, INTENSIFIERS) : "";
      case "{posAdj}" -> pick(rng, POSITIVE_ADJECTIVES);
      case "{negAdj}" -> pick(rng, NEGATIVE_ADJECTIVES);
      case "{posAdv}" -> pick(rng, POSITIVE_ADVERBS);
      case "{negAdv}" -> pick(rng, NEGATIVE_ADVERBS);
      case "{logistics}" -> pick(rng, LOGISTICS);
      case "{posLogistics}" -> pick(rng, POSITIVE_LOGISTICS);
      case "{negLogistics}" -> pick(rng, NEGATIVE_LOGISTICS);
      case "{audience}" -> pick(rng, AUDIENCES);
      case "{delay}" -> pick(rng, DELAYS);
      default -> slot;
    };
  }

  /** All literal words of the templates and lists: what {@link #fill} can produce. */
  private static List<String> buildVocabulary() {
    List<List<String>> lists =
        List.of(
            PRODUCTS,
            PARTS,
            INTENSIFIERS,
            POSITIVE_ADJECTIVES,
            NEGATIVE_ADJECTIVES,
            POSITIVE_ADVERBS,
            NEGATIVE_ADVERBS,
            LOGISTICS,
            POSITIVE_LOGISTICS,
            NEGATIVE_LOGISTICS,
            AUDIENCES,
            DELAYS,
            OPENERS,
            POSITIVE_KEYWORDS,
            POSITIVE_CLAUSES,
            NEGATIVE_CLAUSES,
            List.of(PROMPT_PREFIX, PROMPT_SUFFIX, "and but ."));
    return lists.stream()
        .flatMap(List::stream)
        .flatMap(phrase -> words(phrase).stream())
        .filter(word -> !word.startsWith("{"))
        .collect(Collectors.toCollection(TreeSet::new))
        .stream()
        .toList();
  }

  private static boolean isPunctuation(String token) {
    return token.equals(".") || token.equals(",") || token.equals(":");
  }

  private static List<String> words(String text) {
    String trimmed = text.strip();
    return trimmed.isEmpty() ? List.of() : List.of(trimmed.split("\\s+"));
  }

  private static <T> T pick(Random rng, List<T> items) {
    return items.get(rng.nextInt(items.size()));
  }
}

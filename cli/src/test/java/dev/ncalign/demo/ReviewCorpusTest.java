package dev.ncalign.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ncalign.demo.ReviewCorpus.Degeneration;
import dev.ncalign.demo.ReviewCorpus.Sentiment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ReviewCorpusTest {

  private static final Set<String> VOCABULARY = new HashSet<>(ReviewCorpus.vocabulary());

  @Test
  void fluentReviewsAreInVocabularyBoundedAndEndWithPeriod() {
    Random rng = new Random(1);
    for (Sentiment sentiment : Sentiment.values()) {
      for (int i = 0; i < 500; i++) {
        String text = ReviewCorpus.response(rng, sentiment);
        String[] tokens = text.split(" ");
        assertTrue(
            tokens.length >= ReviewCorpus.MIN_TOKENS && tokens.length <= ReviewCorpus.MAX_TOKENS,
            text);
        assertEquals(".", tokens[tokens.length - 1], text);
        assertCovered(text);
      }
    }
  }

  @Test
  void fluentReviewsNeverRepeatASentence() {
    Random rng = new Random(4);
    for (int i = 0; i < 500; i++) {
      String text = ReviewCorpus.response(rng, Sentiment.values()[i % 3]);
      List<String> sentences = List.of(text.split(" \\. ?"));
      assertEquals(sentences.size(), new HashSet<>(sentences).size(), text);
    }
  }

  @Test
  void mixedReviewsJoinOppositeClauses() {
    Random rng = new Random(2);
    for (int i = 0; i < 200; i++) {
      assertTrue(ReviewCorpus.response(rng, Sentiment.MIXED).contains(" but "));
    }
  }

  @Test
  void degenerateTextsHaveTheirDefiningShape() {
    Random rng = new Random(3);
    for (int i = 0; i < 300; i++) {
      for (Degeneration kind : Degeneration.values()) {
        String text = ReviewCorpus.degenerate(rng, "kettle", kind);
        assertCovered(text);
        List<String> tokens = List.of(text.split(" "));
        List<String> words = tokens.stream().filter(t -> !t.equals(".")).toList();
        switch (kind) {
          case SHUFFLED -> assertEquals(".", tokens.get(tokens.size() - 1));
          case REPEATED_WORD -> {
            assertTrue(words.size() >= 4, text);
            assertEquals(1, new HashSet<>(words).size(), text);
          }
          case TRUNCATED ->
              assertFalse(Set.of(".", ",", ":").contains(tokens.get(tokens.size() - 1)), text);
          case ONE_WORD -> assertEquals(1, words.size(), text);
          case RUN_ON -> assertTrue(tokens.size() > 2 * ReviewCorpus.MAX_TOKENS, text);
          case KEYWORD_LIST -> assertEquals(words.size(), new HashSet<>(words).size(), text);
          case REPEATED_SENTENCE -> {
            int sentence = tokens.indexOf(".") + 1;
            assertEquals(0, tokens.size() % sentence, text);
            assertTrue(tokens.size() / sentence >= 3, text);
            for (int k = sentence; k < tokens.size(); k++) {
              assertEquals(tokens.get(k % sentence), tokens.get(k), text);
            }
          }
        }
      }
    }
  }

  @Test
  void sameSeedSameTextAndDifferentSeedsDiffer() {
    assertEquals(sample(7), sample(7));
    assertNotEquals(sample(7), sample(8));
  }

  @Test
  void promptsNameEveryProductAndParseBack() {
    List<String> prompts = ReviewCorpus.prompts();
    assertTrue(prompts.size() >= 20 && prompts.size() <= 40);
    assertEquals("review of the blender :", ReviewCorpus.prompt("blender"));
    for (int i = 0; i < prompts.size(); i++) {
      assertEquals(ReviewCorpus.products().get(i), ReviewCorpus.productOf(prompts.get(i)));
      assertCovered(prompts.get(i));
    }
    assertThrows(
        IllegalArgumentException.class, () -> ReviewCorpus.productOf("review of the spaceship :"));
  }

  @Test
  void vocabularyIsSortedLowerCaseAndDistinct() {
    List<String> vocabulary = ReviewCorpus.vocabulary();
    assertEquals(new ArrayList<>(new java.util.TreeSet<>(vocabulary)), vocabulary);
    assertTrue(
        vocabulary.stream()
            .allMatch(w -> w.equals(w.toLowerCase()) && !w.isBlank() && !w.contains(" ")));
    assertTrue(vocabulary.containsAll(List.of(".", ",", ":")));
  }

  private static List<String> sample(long seed) {
    Random rng = new Random(seed);
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      texts.add(ReviewCorpus.prompt(rng) + " " + ReviewCorpus.response(rng, Sentiment.POSITIVE));
    }
    return texts;
  }

  private static void assertCovered(String text) {
    for (String token : text.split(" ")) {
      assertTrue(
          VOCABULARY.contains(token), () -> "'" + token + "' of '" + text + "' not in vocabulary");
    }
  }
}

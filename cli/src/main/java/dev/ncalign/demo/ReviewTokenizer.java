package dev.ncalign.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ncalign.lm.model.WordLevelTokenizerJson;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The demo reward model's tokenizer: the review words after {@code <pad> <unk> <bos> <eos>} (ids
 * 0..3), a text framed as {@code <bos> A <eos>} and a pair as {@code <bos> A <eos> B <eos>}.
 */
final class ReviewTokenizer {

  /** Special tokens, at ids 0..3 in this order. */
  static final List<String> SPECIAL_TOKENS = List.of("<pad>", "<unk>", "<bos>", "<eos>");

  /** Id of {@code <pad>}. */
  static final int PAD_ID = 0;

  private ReviewTokenizer() {}

  /** Size of the vocabulary a tokenizer for {@code words} has: special tokens plus words. */
  static int vocabularySize(List<String> words) {
    return SPECIAL_TOKENS.size() + words.size();
  }

  /**
   * Writes the tokenizer for {@code words} (lower-case, distinct, no whitespace) to {@code file}.
   */
  static void write(Path file, List<String> words) throws IOException {
    List<String> vocabulary = new ArrayList<>(SPECIAL_TOKENS);
    vocabulary.addAll(words);
    new ObjectMapper()
        .writerWithDefaultPrettyPrinter()
        .writeValue(
            file.toFile(), WordLevelTokenizerJson.build(vocabulary, SPECIAL_TOKENS.size(), true));
  }
}

package dev.ncalign.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes a Hugging Face {@code tokenizer.json} for a fixed word list: WordLevel model, Lowercase
 * normalizer, Whitespace pre-tokenizer, and a TemplateProcessing post-processor that frames a text
 * as {@code <bos> A <eos>} and a pair as {@code <bos> A <eos> B <eos>} (second segment type id 1).
 */
public final class WordLevelTokenizer {

  /** Special tokens, at ids 0..3 in this order. */
  public static final List<String> SPECIAL_TOKENS = List.of("<pad>", "<unk>", "<bos>", "<eos>");

  /** Id of {@code <pad>}. */
  public static final int PAD_ID = 0;

  private static final String BOS = "<bos>";
  private static final String EOS = "<eos>";

  private static final ObjectMapper JSON = new ObjectMapper();

  private WordLevelTokenizer() {}

  /** Size of the vocabulary a tokenizer for {@code words} has: special tokens plus words. */
  public static int vocabularySize(List<String> words) {
    return SPECIAL_TOKENS.size() + words.size();
  }

  /**
   * Writes the tokenizer for {@code words} (lower-case, distinct, no whitespace) to {@code file}.
   */
  public static void write(Path file, List<String> words) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    for (int id = 0; id < SPECIAL_TOKENS.size(); id++) {
      added
          .addObject()
          .put("id", id)
          .put("content", SPECIAL_TOKENS.get(id))
          .put("single_word", false)
          .put("lstrip", false)
          .put("rstrip", false)
          .put("normalized", false)
          .put("special", true);
    }
    root.putObject("normalizer").put("type", "Lowercase");
    root.putObject("pre_tokenizer").put("type", "Whitespace");
    root.set("post_processor", postProcessor());
    root.putNull("decoder");
    ObjectNode model = root.putObject("model");
    model.put("type", "WordLevel");
    ObjectNode vocab = model.putObject("vocab");
    for (int id = 0; id < SPECIAL_TOKENS.size(); id++) {
      vocab.put(SPECIAL_TOKENS.get(id), id);
    }
    for (int i = 0; i < words.size(); i++) {
      vocab.put(words.get(i), SPECIAL_TOKENS.size() + i);
    }
    model.put("unk_token", "<unk>");
    JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), root);
  }

  private static ObjectNode postProcessor() {
    ObjectNode processor = JSON.createObjectNode();
    processor.put("type", "TemplateProcessing");
    ArrayNode single = processor.putArray("single");
    special(single, BOS, 0);
    sequence(single, "A", 0);
    special(single, EOS, 0);
    ArrayNode pair = processor.putArray("pair");
    special(pair, BOS, 0);
    sequence(pair, "A", 0);
    special(pair, EOS, 0);
    sequence(pair, "B", 1);
    special(pair, EOS, 1);
    ObjectNode specials = processor.putObject("special_tokens");
    for (String token : List.of(BOS, EOS)) {
      ObjectNode entry = specials.putObject(token);
      entry.put("id", token);
      entry.putArray("ids").add(SPECIAL_TOKENS.indexOf(token));
      entry.putArray("tokens").add(token);
    }
    return processor;
  }

  private static void special(ArrayNode pieces, String token, int typeId) {
    pieces.addObject().putObject("SpecialToken").put("id", token).put("type_id", typeId);
  }

  private static void sequence(ArrayNode pieces, String id, int typeId) {
    pieces.addObject().putObject("Sequence").put("id", id).put("type_id", typeId);
  }
}

package dev.ncalign.lm.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * Builds a Hugging Face {@code tokenizer.json} for a fixed word list: WordLevel model, Lowercase
 * normalizer, Whitespace pre-tokenizer, and a TemplateProcessing post-processor that puts {@code
 * <bos>} before a text ({@code add_special_tokens=True}) and, when asked, {@code <eos>} after it
 * and after the second text of a pair (type id 1). The one writer for the project's tiny models:
 * the test and demo policies, and the demo reward model.
 */
public final class WordLevelTokenizerJson {

  /** A policy's special tokens, ids 0..3: pad, bos, eos, unk. */
  public static final List<String> SPECIALS = List.of("<pad>", "<bos>", "<eos>", "<unk>");

  static final int PAD = 0;
  static final int BOS = 1;
  static final int EOS = 2;

  private static final String BOS_TOKEN = "<bos>";
  private static final String EOS_TOKEN = "<eos>";
  private static final String UNK_TOKEN = "<unk>";

  private WordLevelTokenizerJson() {}

  /** A policy's tokenizer: {@code <bos>} before a text, no {@code <eos>} added. */
  static ObjectNode build(List<String> vocabulary) {
    return build(vocabulary, SPECIALS.size(), false);
  }

  /**
   * @param vocabulary every token in id order; the first {@code specials} are special tokens and
   *     must include {@code <bos>} and {@code <unk>} (and {@code <eos>} when it frames texts)
   * @param specials how many leading tokens are special
   * @param eosAfterEachText whether {@code <eos>} closes each text of the template
   */
  public static ObjectNode build(List<String> vocabulary, int specials, boolean eosAfterEachText) {
    ObjectMapper json = new ObjectMapper();
    ObjectNode root = json.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    for (int id = 0; id < specials; id++) {
      added
          .addObject()
          .put("id", id)
          .put("content", vocabulary.get(id))
          .put("single_word", false)
          .put("lstrip", false)
          .put("rstrip", false)
          .put("normalized", false)
          .put("special", true);
    }
    root.putObject("normalizer").put("type", "Lowercase");
    root.putObject("pre_tokenizer").put("type", "Whitespace");
    ObjectNode post = root.putObject("post_processor");
    post.put("type", "TemplateProcessing");
    ArrayNode single = post.putArray("single");
    special(single, BOS_TOKEN, 0);
    sequence(single, "A", 0);
    ArrayNode pair = post.putArray("pair");
    special(pair, BOS_TOKEN, 0);
    sequence(pair, "A", 0);
    if (eosAfterEachText) {
      special(single, EOS_TOKEN, 0);
      special(pair, EOS_TOKEN, 0);
    }
    sequence(pair, "B", 1);
    if (eosAfterEachText) {
      special(pair, EOS_TOKEN, 1);
    }
    ObjectNode specialTokens = post.putObject("special_tokens");
    for (String token : eosAfterEachText ? List.of(BOS_TOKEN, EOS_TOKEN) : List.of(BOS_TOKEN)) {
      ObjectNode entry = specialTokens.putObject(token);
      entry.put("id", token);
      entry.putArray("ids").add(idOf(vocabulary, specials, token));
      entry.putArray("tokens").add(token);
    }
    // No decoder: HF then joins tokens with single spaces, which is right for whitespace-split
    // words.
    root.putNull("decoder");
    ObjectNode model = root.putObject("model");
    model.put("type", "WordLevel");
    ObjectNode vocab = model.putObject("vocab");
    for (int id = 0; id < vocabulary.size(); id++) {
      vocab.put(vocabulary.get(id), id);
    }
    idOf(vocabulary, specials, UNK_TOKEN);
    model.put("unk_token", UNK_TOKEN);
    return root;
  }

  private static int idOf(List<String> vocabulary, int specials, String token) {
    int id = vocabulary.subList(0, specials).indexOf(token);
    if (id < 0) {
      throw new IllegalArgumentException(
          token + " is not among the special tokens " + vocabulary.subList(0, specials));
    }
    return id;
  }

  private static void special(ArrayNode pieces, String token, int typeId) {
    pieces.addObject().putObject("SpecialToken").put("id", token).put("type_id", typeId);
  }

  private static void sequence(ArrayNode pieces, String id, int typeId) {
    pieces.addObject().putObject("Sequence").put("id", id).put("type_id", typeId);
  }
}

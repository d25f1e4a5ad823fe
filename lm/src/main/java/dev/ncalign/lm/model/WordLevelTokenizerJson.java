package dev.ncalign.lm.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * Builds a Hugging Face {@code tokenizer.json}: WordLevel model, Lowercase normalizer, Whitespace
 * pre-tokenizer, and a TemplateProcessing post-processor that puts BOS before a prompt ({@code
 * add_special_tokens=True}). Special tokens come first: pad, bos, eos, unk = ids 0..3.
 */
final class WordLevelTokenizerJson {

  static final List<String> SPECIALS = List.of("<pad>", "<bos>", "<eos>", "<unk>");
  static final int PAD = 0;
  static final int BOS = 1;
  static final int EOS = 2;

  private WordLevelTokenizerJson() {}

  /**
   * @param vocabulary every token, specials first (see {@link #SPECIALS})
   */
  static ObjectNode build(List<String> vocabulary) {
    ObjectMapper json = new ObjectMapper();
    ObjectNode root = json.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    for (int id = 0; id < SPECIALS.size(); id++) {
      added
          .addObject()
          .put("id", id)
          .put("content", SPECIALS.get(id))
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
    String bos = SPECIALS.get(BOS);
    ArrayNode single = post.putArray("single");
    single.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 0);
    single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
    ArrayNode pair = post.putArray("pair");
    pair.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 0);
    pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
    pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
    ObjectNode bosEntry = post.putObject("special_tokens").putObject(bos);
    bosEntry.put("id", bos);
    bosEntry.putArray("ids").add(BOS);
    bosEntry.putArray("tokens").add(bos);
    // No decoder: HF then joins tokens with single spaces, which is right for whitespace-split
    // words.
    root.putNull("decoder");
    ObjectNode model = root.putObject("model");
    model.put("type", "WordLevel");
    ObjectNode vocab = model.putObject("vocab");
    for (int id = 0; id < vocabulary.size(); id++) {
      vocab.put(vocabulary.get(id), id);
    }
    model.put("unk_token", SPECIALS.get(3));
    return root;
  }
}

package dev.ncalign.reward.model;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Turns (prompt, response) pairs into token ids that fit the model's max length. When the pair is
 * too long the prompt loses tokens from its left end first (the end nearest the response is the
 * most relevant context); only if the response alone does not fit is the response cut from its
 * right end.
 */
public final class RewardEncoder implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final HuggingFaceTokenizer tokenizer;
  private final InputFormat format;
  private final int maxLength;
  private final long padId;

  private RewardEncoder(
      HuggingFaceTokenizer tokenizer, InputFormat format, int maxLength, long padId) {
    this.tokenizer = tokenizer;
    this.format = format;
    this.maxLength = maxLength;
    this.padId = padId;
  }

  /**
   * Loads a {@code tokenizer.json} file.
   *
   * @throws IllegalArgumentException if the file is missing or even an empty pair does not fit in
   *     {@code maxLength}
   */
  public static RewardEncoder load(Path tokenizerJson, InputFormat format, int maxLength)
      throws IOException {
    if (!Files.isRegularFile(tokenizerJson)) {
      throw new IllegalArgumentException("no tokenizer file " + tokenizerJson);
    }
    long padId = padId(tokenizerJson);
    // Truncation and padding are done here and in the model, never by the tokenizer's own settings.
    HuggingFaceTokenizer tokenizer =
        HuggingFaceTokenizer.newInstance(
            tokenizerJson,
            Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "true"));
    RewardEncoder encoder = new RewardEncoder(tokenizer, format, maxLength, padId);
    int minimum = encoder.format.encode(tokenizer, "", "").getIds().length;
    if (minimum > maxLength) {
      tokenizer.close();
      throw new IllegalArgumentException(
          "max_length "
              + maxLength
              + " is shorter than the "
              + minimum
              + " tokens an empty input takes with "
              + format);
    }
    return encoder;
  }

  /**
   * The id to pad with: the model's {@code config.json} {@code pad_token_id} beside the tokenizer
   * when it names one, else tokenizer.json's {@code padding.pad_id}, else 0. Decoder reward models
   * (HF {@code *ForSequenceClassification} on Llama, Qwen, Mistral) ignore the attention mask when
   * pooling: they score the last token that is not {@code config.pad_token_id}, so padding with any
   * other id would make a reward depend on the longest input it was batched with.
   */
  static long padId(Path tokenizerJson) throws IOException {
    Path config = tokenizerJson.resolveSibling("config.json");
    if (Files.isRegularFile(config)) {
      JsonNode pad = JSON.readTree(config.toFile()).path("pad_token_id");
      if (pad.isIntegralNumber()) {
        return pad.asLong();
      }
    }
    return JSON.readTree(tokenizerJson.toFile()).path("padding").path("pad_id").asLong(0);
  }

  /** Longest sequence this encoder produces. */
  public int maxLength() {
    return maxLength;
  }

  /**
   * Token id used for padding (see {@link #padId(Path)}): encoder models mask padded positions out;
   * decoder reward models find the end of each row by this id.
   */
  public long padId() {
    return padId;
  }

  /** The input format in use. */
  public InputFormat format() {
    return format;
  }

  /** Tokenizes one pair, truncating as described on the class. */
  public EncodedInput encode(String prompt, String response) {
    Encoding full = format.encode(tokenizer, prompt, response);
    if (full.getIds().length <= maxLength) {
      return toInput(full, false);
    }
    CharSpan[] promptSpans = tokenizer.encode(prompt, false, false).getCharTokenSpans();
    int excess = full.getIds().length - maxLength;
    for (int drop = Math.min(excess, promptSpans.length); drop < promptSpans.length; ) {
      Encoding shorter =
          format.encode(tokenizer, prompt.substring(promptSpans[drop].getStart()), response);
      excess = shorter.getIds().length - maxLength;
      if (excess <= 0) {
        return toInput(shorter, true);
      }
      drop += excess;
    }
    return encodeResponseCut(response);
  }

  /** The prompt is gone entirely and the response is still too long: keep its beginning. */
  private EncodedInput encodeResponseCut(String response) {
    CharSpan[] spans = tokenizer.encode(response, false, false).getCharTokenSpans();
    int keep = spans.length;
    while (true) {
      String cut = keep == 0 ? "" : response.substring(0, spans[keep - 1].getEnd());
      Encoding encoding = format.encode(tokenizer, "", cut);
      int excess = encoding.getIds().length - maxLength;
      if (excess <= 0) {
        return toInput(encoding, true);
      }
      keep = Math.max(0, keep - excess);
    }
  }

  private static EncodedInput toInput(Encoding encoding, boolean truncated) {
    return new EncodedInput(encoding.getIds(), encoding.getTypeIds(), truncated);
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}

package dev.ncalign.lm.model;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Text to token ids and back, the Hugging Face way, through a {@code tokenizer.json} (DJL's HF
 * tokenizers). A prompt is encoded with the tokenizer's own special-token rules (its
 * post-processor, like {@code add_special_tokens=True}); a response without them; the caller
 * concatenates the two (TRL convention). One codec is shared by every weight version of a model, so
 * it is reference-counted: {@link #retain()} for each extra owner, {@link #close()} once per owner;
 * the native tokenizer is freed with the last.
 */
public final class TextCodec implements AutoCloseable {

  private final HuggingFaceTokenizer tokenizer;
  private final Path file;
  private final int[] eosIds;
  private final int padId;
  private final AtomicInteger owners = new AtomicInteger(1);

  private TextCodec(HuggingFaceTokenizer tokenizer, Path file, int[] eosIds, int padId) {
    this.tokenizer = tokenizer;
    this.file = file;
    this.eosIds = eosIds;
    this.padId = padId;
  }

  /**
   * Loads {@code tokenizer.json}; eos and pad ids come from the model config (pad falls back to
   * eos).
   */
  public static TextCodec load(Path tokenizerJson, ModelConfig config) {
    try {
      // No truncation or padding: lengths are checked against the context window by the callers.
      HuggingFaceTokenizer tokenizer =
          HuggingFaceTokenizer.newInstance(
              tokenizerJson, Map.of("truncation", "false", "padding", "false"));
      int[] eos = config.eosTokenIds().stream().mapToInt(Integer::intValue).toArray();
      int pad = config.padTokenId() >= 0 ? config.padTokenId() : eos.length > 0 ? eos[0] : 0;
      return new TextCodec(tokenizer, tokenizerJson, eos, pad);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot load " + tokenizerJson, e);
    }
  }

  /**
   * Prompt ids with the tokenizer's special tokens (e.g. a leading BOS from its post-processor).
   */
  public int[] encodePrompt(String prompt) {
    return toInts(tokenizer.encode(prompt, true, false).getIds());
  }

  /** Response ids without special tokens, to be appended to the prompt ids. */
  public int[] encodeResponse(String response) {
    return toInts(tokenizer.encode(response, false, false).getIds());
  }

  /**
   * Ids of a prompt rendered by a chat template ({@code dev.ncalign.lm.chat.ChatTemplate}), with no
   * special tokens added: the template already wrote them as text (BOS, turn markers), and the
   * tokenizer maps each to its single id. Adding them again would double the BOS of Llama-style
   * models, as transformers' {@code apply_chat_template(tokenize=True)} avoids too.
   */
  public int[] encodeChatPrompt(String renderedPrompt) {
    return toInts(tokenizer.encode(renderedPrompt, false, false).getIds());
  }

  /** Text of {@code ids}, special tokens (eos, pad, ...) left out. */
  public String decode(int[] ids) {
    return tokenizer.decode(Arrays.stream(ids).asLongStream().toArray(), true);
  }

  /** The first end-of-sequence id. */
  public int eosId() {
    return eosIds.length > 0 ? eosIds[0] : -1;
  }

  /** Whether {@code id} ends a sequence. */
  public boolean isEos(int id) {
    return Arrays.stream(eosIds).anyMatch(e -> e == id);
  }

  /** Filler id for padded batches (its value never changes a result: padding is masked). */
  public int padId() {
    return padId;
  }

  /** The {@code tokenizer.json} this codec was loaded from. */
  public Path file() {
    return file;
  }

  /** Adds an owner; each owner calls {@link #close()} once. */
  public TextCodec retain() {
    if (owners.getAndIncrement() <= 0) {
      throw new IllegalStateException("tokenizer already closed");
    }
    return this;
  }

  @Override
  public void close() {
    if (owners.decrementAndGet() == 0) {
      tokenizer.close();
    }
  }

  private static int[] toInts(long[] ids) {
    return Arrays.stream(ids).mapToInt(Math::toIntExact).toArray();
  }
}

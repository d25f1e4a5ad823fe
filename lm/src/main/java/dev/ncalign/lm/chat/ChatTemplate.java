package dev.ncalign.lm.chat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A model's chat template, rendered exactly as transformers' {@code apply_chat_template(messages,
 * add_generation_prompt=True, tokenize=False)} renders it. The result already holds the model's
 * special tokens, so it is tokenized without adding any (see {@code TextCodec#encodeChatPrompt}).
 *
 * <p><b>Engine.</b> Templates run in {@code @huggingface/jinja} 0.5.11, Hugging Face's own Jinja
 * for chat templates (the one transformers.js uses), inside GraalJS 23.1.8 (the GraalVM line made
 * for Java 17). HF templates lean on Python habits ({@code namespace(a=...)}, {@code
 * messages[::-1]}, {@code .startswith()}/{@code .split()}/{@code .strip()}, {@code
 * raise_exception}, {@code |tojson}, {@code strftime_now}, {@code {%- -%}} under {@code
 * trim_blocks}/{@code lstrip_blocks}). That engine renders all 40 goldens exactly (Qwen3's real
 * template, Llama-3-, Mistral- and Gemma-style; Python Jinja2 set up like transformers agrees with
 * every one), where stock jinjava 2.7.4 got 11 of 40: it fails Qwen3's template ({@code namespace}
 * kwargs, {@code [::-1]}), leaks indentation through <code>{%-</code> and <code>{#-</code> in the
 * others, and by default evaluates Jinja found inside message text ({@code "{{ 7*7 }}"} renders as
 * {@code 49}). Following upstream's engine beats patching a Java Jinja towards Python one habit at
 * a time.
 *
 * <p>The price, measured on this project's 2-core machine: ~86 MB of jars (icu4j 40, js-language
 * 27, truffle-api 17); the first template in a JVM costs ~2.6 s of CPU (engine start, the 115 KB
 * bundle, the first compile), later ones ~0.1 s; a six-message Qwen3 render ~2-4 ms, since stock
 * OpenJDK runs Truffle in its interpreter (no Graal JIT). Load templates at start-up, not per
 * request.
 *
 * <p><b>Threads.</b> One instance per template; {@link #render} may be called from any thread
 * (renders of one template run one at a time, as a GraalJS context requires). {@link #close()}
 * frees the JS context.
 *
 * <p><b>Errors.</b> A template that raises ({@code raise_exception}), fails or runs past {@link
 * #RENDER_TIME_LIMIT} on a conversation, or a text that is not a template, gives an {@link
 * IllegalArgumentException} whose message says why: a caller answers it as a bad request.
 */
public final class ChatTemplate implements AutoCloseable {

  /**
   * Longest a render may take before it is stopped with an error. Real renders take milliseconds;
   * this only catches a template that loops, with room for a busy machine.
   */
  public static final Duration RENDER_TIME_LIMIT = Duration.ofSeconds(10);

  private static final ObjectMapper JSON = new ObjectMapper();

  private final String source;
  private final Map<String, String> specialTokens;
  private final Clock clock;
  private final HfJinja engine;

  private ChatTemplate(
      String source, Map<String, String> specialTokens, Clock clock, Duration timeLimit) {
    this.source = source;
    this.specialTokens = Map.copyOf(specialTokens);
    this.clock = clock;
    this.engine =
        new HfJinja(
            source,
            format -> PythonStrftime.format(ZonedDateTime.now(this.clock), format),
            timeLimit);
  }

  /**
   * The chat template of a Hugging Face model directory: {@code chat_template.jinja}, else {@code
   * chat_template} of {@code tokenizer_config.json} (a string, or a list of named templates of
   * which {@code default} is used); special tokens ({@code bos_token}, {@code eos_token}, ...) from
   * {@code tokenizer_config.json}. Empty when the directory has no template.
   *
   * @throws IllegalArgumentException if the files are malformed or the template does not parse
   */
  public static Optional<ChatTemplate> load(Path modelDir) {
    return load(modelDir, Clock.systemDefaultZone());
  }

  /** {@link #load(Path)} with the clock {@code strftime_now} reads (tests pin it). */
  public static Optional<ChatTemplate> load(Path modelDir, Clock clock) {
    return ChatTemplateFiles.read(modelDir)
        .map(f -> new ChatTemplate(f.template(), f.specialTokens(), clock, RENDER_TIME_LIMIT));
  }

  /**
   * A template from its text; {@code specialTokens} maps {@code bos_token}, {@code eos_token}, ...
   * to their strings, as {@code tokenizer.special_tokens_map} does.
   *
   * @throws IllegalArgumentException if the text does not parse
   */
  public static ChatTemplate of(String template, Map<String, String> specialTokens) {
    return new ChatTemplate(template, specialTokens, Clock.systemDefaultZone(), RENDER_TIME_LIMIT);
  }

  /** {@link #of(String, Map)} with the clock {@code strftime_now} reads. */
  public static ChatTemplate of(String template, Map<String, String> specialTokens, Clock clock) {
    return new ChatTemplate(template, specialTokens, clock, RENDER_TIME_LIMIT);
  }

  /** {@link #of(String, Map)} with another render time limit (tests use a short one). */
  static ChatTemplate of(String template, Map<String, String> specialTokens, Duration timeLimit) {
    return new ChatTemplate(template, specialTokens, Clock.systemDefaultZone(), timeLimit);
  }

  /**
   * The prompt for the model's next assistant turn: the conversation rendered with {@code
   * add_generation_prompt=True}, special tokens included as text.
   *
   * @throws IllegalArgumentException if the template rejects the conversation (e.g. roles that do
   *     not alternate), fails on it or runs past {@link #RENDER_TIME_LIMIT}
   */
  public String render(List<ChatMessage> messages) {
    Objects.requireNonNull(messages, "messages");
    return engine.render(variables(messages));
  }

  /** The tokenizer's {@code bos_token} string, if it has one. */
  public Optional<String> bosToken() {
    return Optional.ofNullable(specialTokens.get("bos_token"));
  }

  /** The tokenizer's {@code eos_token} string, if it has one. */
  public Optional<String> eosToken() {
    return Optional.ofNullable(specialTokens.get("eos_token"));
  }

  /** Special-token strings the template can refer to, by key ({@code bos_token}, ...). */
  public Map<String, String> specialTokens() {
    return specialTokens;
  }

  /** The template text. */
  public String source() {
    return source;
  }

  @Override
  public void close() {
    engine.close();
  }

  /**
   * What transformers passes: messages, tools=None, documents=None, add_generation_prompt, special
   * tokens.
   */
  private String variables(List<ChatMessage> messages) {
    ObjectNode vars = JSON.createObjectNode();
    ArrayNode list = vars.putArray("messages");
    for (ChatMessage m : messages) {
      list.addObject().put("role", m.role()).put("content", m.content());
    }
    vars.putNull("tools");
    vars.putNull("documents");
    vars.put("add_generation_prompt", true);
    specialTokens.forEach(vars::put);
    try {
      return JSON.writeValueAsString(vars);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e); // a tree of strings always serialises
    }
  }
}

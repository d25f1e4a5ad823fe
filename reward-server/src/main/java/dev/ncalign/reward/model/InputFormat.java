package dev.ncalign.reward.model;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

/**
 * How a (prompt, response) pair becomes model input: either the tokenizer's text-pair encoding
 * (what a Hugging Face reward model trained on {@code tokenizer(question, answer)} expects) or one
 * text made from a template with {@code {prompt}} and {@code {response}} placeholders.
 */
public final class InputFormat {

  private static final String PROMPT = "{prompt}";
  private static final String RESPONSE = "{response}";

  /** Null for pair encoding. */
  private final String template;

  private InputFormat(String template) {
    this.template = template;
  }

  /** The tokenizer's text-pair encoding: prompt as the first sequence, response as the second. */
  public static InputFormat pair() {
    return new InputFormat(null);
  }

  /**
   * One text built from {@code template}, e.g. {@code "{prompt} {response}"}.
   *
   * @throws IllegalArgumentException if the template has no {@code {response}} placeholder
   */
  public static InputFormat template(String template) {
    if (!template.contains(RESPONSE)) {
      throw new IllegalArgumentException(
          "template must contain " + RESPONSE + ": '" + template + "'");
    }
    return new InputFormat(template);
  }

  /** {@link #pair()} for a null template, otherwise {@link #template(String)}. */
  public static InputFormat ofNullableTemplate(String template) {
    return template == null ? pair() : template(template);
  }

  /** The template, or null for pair encoding. */
  public String templateOrNull() {
    return template;
  }

  /** Tokenizes one pair with the tokenizer's special tokens and no truncation. */
  Encoding encode(HuggingFaceTokenizer tokenizer, String prompt, String response) {
    if (template == null) {
      return tokenizer.encode(prompt, response, true, false);
    }
    return tokenizer.encode(fill(prompt, response), true, false);
  }

  /**
   * Substitutes in one left-to-right pass so placeholder-like text inside the prompt stays literal.
   */
  private String fill(String prompt, String response) {
    StringBuilder out = new StringBuilder();
    int i = 0;
    while (i < template.length()) {
      if (template.startsWith(PROMPT, i)) {
        out.append(prompt);
        i += PROMPT.length();
      } else if (template.startsWith(RESPONSE, i)) {
        out.append(response);
        i += RESPONSE.length();
      } else {
        out.append(template.charAt(i++));
      }
    }
    return out.toString();
  }

  @Override
  public String toString() {
    return template == null ? "pair" : "template '" + template + "'";
  }
}

package dev.ncalign.serving;

/**
 * The most characters one text field of a request may hold, checked before any tokenizer sees the
 * text: tokenizing a 10 MB prompt costs a minute of CPU and gigabytes of memory only to be refused
 * afterwards for having too many tokens. Reported by both servers' GetInfo as {@code max_chars}.
 */
public record TextLimit(int maxChars) {

  /** 32768 characters: a few times the longest context the served models take, in tokens. */
  public static final int DEFAULT_MAX_CHARS = 32_768;

  public TextLimit {
    if (maxChars < 1) {
      throw new IllegalArgumentException("--max-chars must be at least 1, got " + maxChars);
    }
  }

  /**
   * @throws InvalidRequestException naming {@code field} if {@code value} is too long
   */
  public void check(String field, String value) {
    if (value.length() > maxChars) {
      throw new InvalidRequestException(
          field, value.length() + " characters exceed the limit of " + maxChars);
    }
  }
}

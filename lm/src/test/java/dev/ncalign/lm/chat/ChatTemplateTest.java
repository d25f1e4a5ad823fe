package dev.ncalign.lm.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loading rules, errors and concurrent use of {@link ChatTemplate}; exact output is
 * ChatTemplateGoldenTest's.
 */
class ChatTemplateTest {

  private static final String SIMPLE =
      "{% for m in messages %}<{{ m.role }}>{{ m.content }}{{ eos_token }}"
          + "{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}";

  @TempDir Path dir;

  @Test
  void noTemplateIsEmpty() throws IOException {
    assertTrue(ChatTemplate.load(dir).isEmpty(), "no files at all");
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"</s>\"}");
    assertTrue(ChatTemplate.load(dir).isEmpty(), "tokenizer_config without chat_template");
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": null}");
    assertTrue(ChatTemplate.load(dir).isEmpty(), "chat_template null");
  }

  @Test
  void raiseExceptionBecomesAClearIllegalArgument() {
    try (ChatTemplate t =
        ChatTemplate.of(
            "{% if messages[0].role != 'user' %}"
                + "{{ raise_exception('Conversations must start with a user turn') }}{% endif %}ok",
            Map.of())) {
      assertEquals("ok", t.render(List.of(ChatMessage.user("hi"))));
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> t.render(List.of(ChatMessage.assistant("hello"))));
      assertEquals(
          "chat template rejected the conversation: Conversations must start with a user turn",
          e.getMessage());
      // The template stays usable after it raised.
      assertEquals("ok", t.render(List.of(ChatMessage.user("again"))));
    }
  }

  @Test
  void badTemplateTextIsAnIllegalArgument() throws IOException {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> ChatTemplate.of("{% for m in messages %}never closed", Map.of()));
    assertTrue(e.getMessage().startsWith("invalid chat template: "), e.getMessage());

    Files.writeString(
        dir.resolve("tokenizer_config.json"), "{\"chat_template\": \"{{ messages[ }}\"}");
    assertThrows(IllegalArgumentException.class, () -> ChatTemplate.load(dir));
  }

  @Test
  void runtimeFailureIsAnIllegalArgument() {
    try (ChatTemplate t = ChatTemplate.of("{{ messages[0].content.no_such_method() }}", Map.of())) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class, () -> t.render(List.of(ChatMessage.user("hi"))));
      assertTrue(
          e.getMessage().startsWith("chat template failed on this conversation: "), e.getMessage());
    }
  }

  @Test
  void aRenderThatRunsTooLongIsStoppedAndTheTemplateStaysUsable() {
    // Loops 10^8 times (minutes in the interpreter) on one conversation only; range() lists stay
    // small.
    String template =
        "{% if messages[0].content == 'loop' %}{% for i in range(10000) %}{% for j in"
            + " range(10000) %}{% endfor %}{% endfor %}{% endif %}ok";
    // Warm the shared engine first, so that on a busy machine the quick renders below stay far
    // inside the short limit.
    try (ChatTemplate warm = ChatTemplate.of(template, Map.of())) {
      assertEquals("ok", warm.render(List.of(ChatMessage.user("hi"))));
    }
    try (ChatTemplate t = ChatTemplate.of(template, Map.of(), Duration.ofSeconds(3))) {
      assertEquals("ok", t.render(List.of(ChatMessage.user("hi"))));
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class, () -> t.render(List.of(ChatMessage.user("loop"))));
      assertEquals("chat template did not finish within 3000 ms", e.getMessage());
      assertEquals("ok", t.render(List.of(ChatMessage.user("hi again"))));
    }
  }

  @Test
  void specialTokensInStringAndAddedTokenForm() throws IOException {
    Files.writeString(
        dir.resolve("tokenizer_config.json"),
        """
                {"bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false},
                 "eos_token": "</s>", "pad_token": null,
                 "chat_template": "{{ bos_token }}{% for m in messages %}{{ m.content }}{{ eos_token }}{% endfor %}"}
                """);
    try (ChatTemplate t = ChatTemplate.load(dir).orElseThrow()) {
      assertEquals("<s>", t.bosToken().orElseThrow());
      assertEquals("</s>", t.eosToken().orElseThrow());
      assertFalse(t.specialTokens().containsKey("pad_token"));
      assertEquals(
          "<s>a</s>b</s>", t.render(List.of(ChatMessage.user("a"), ChatMessage.assistant("b"))));
    }
  }

  @Test
  void listOfNamedTemplatesUsesDefault() throws IOException {
    Files.writeString(
        dir.resolve("tokenizer_config.json"),
        """
                {"chat_template": [{"name": "tool_use", "template": "TOOLS"},
                                   {"name": "default", "template": "DEFAULT {{ messages | length }}"}]}
                """);
    try (ChatTemplate t = ChatTemplate.load(dir).orElseThrow()) {
      assertEquals("DEFAULT 1", t.render(List.of(ChatMessage.user("x"))));
    }
    Files.writeString(
        dir.resolve("tokenizer_config.json"),
        "{\"chat_template\": [{\"name\": \"tool_use\", \"template\": \"TOOLS\"}]}");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ChatTemplate.load(dir));
    assertTrue(e.getMessage().contains("none named \"default\""), e.getMessage());
  }

  @Test
  void chatTemplateJinjaFileWinsOverTokenizerConfig() throws IOException {
    Files.writeString(
        dir.resolve("tokenizer_config.json"),
        "{\"eos_token\": \"<|end|>\", \"chat_template\": \"OLD\"}");
    Files.writeString(dir.resolve("chat_template.jinja"), "NEW {{ eos_token }}\n");
    try (ChatTemplate t = ChatTemplate.load(dir).orElseThrow()) {
      // Jinja drops the one trailing newline of a template, as Python's keep_trailing_newline=False
      // does.
      assertEquals("NEW <|end|>", t.render(List.of(ChatMessage.user("x"))));
    }
  }

  @Test
  void strftimeNowReadsTheClockInEnglish() {
    Clock clock = Clock.fixed(Instant.parse("2025-09-03T17:05:09Z"), ZoneOffset.UTC);
    try (ChatTemplate t =
        ChatTemplate.of(
            "{{ strftime_now('%A %d %B %Y, %b %H:%M:%S %I%p %%') }}", Map.of(), clock)) {
      assertEquals("Wednesday 03 September 2025, Sep 17:05:09 05PM %", t.render(List.of()));
    }
  }

  @Test
  void messageTextIsDataNotTemplate() {
    try (ChatTemplate t = ChatTemplate.of(SIMPLE, Map.of("eos_token", "</s>"))) {
      assertEquals(
          "<user>{{ eos_token }} {% if %}</s><assistant>",
          t.render(List.of(ChatMessage.user("{{ eos_token }} {% if %}"))));
    }
  }

  @Test
  void concurrentRendersGiveTheSameResults() throws Exception {
    try (ChatTemplate t = ChatTemplate.of(SIMPLE, Map.of("eos_token", "</s>"))) {
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        List<Future<Boolean>> results = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
          String text = "message " + i;
          results.add(
              pool.submit(
                  () ->
                      t.render(List.of(ChatMessage.user(text)))
                          .equals("<user>" + text + "</s><assistant>")));
        }
        for (Future<Boolean> r : results) {
          assertTrue(r.get());
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }
}

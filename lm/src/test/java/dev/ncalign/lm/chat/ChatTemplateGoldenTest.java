package dev.ncalign.lm.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java rendering equals the goldens that {@code @huggingface/jinja} made (and Python Jinja2
 * agrees with, see {@code lm/src/test/golden}), for every template and conversation, errors
 * included. Each template is loaded the way a server loads it: from a model directory's {@code
 * tokenizer_config.json}.
 */
class ChatTemplateGoldenTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> TEMPLATES =
      List.of("qwen3", "llama3-style", "mistral-style", "gemma-style");

  @TempDir Path tmp;

  @TestFactory
  Stream<DynamicTest> rendersLikeHuggingFaceJinja() throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    for (String name : TEMPLATES) {
      JsonNode golden = JSON.readTree(resource("chat/goldens/" + name + ".json"));
      Clock clock = Clock.fixed(Instant.parse(golden.path("now").asText()), ZoneOffset.UTC);
      Path modelDir = modelDir(golden);
      ChatTemplate template = ChatTemplate.load(modelDir, clock).orElseThrow();
      for (JsonNode c : golden.path("cases")) {
        List<ChatMessage> messages = new ArrayList<>();
        c.path("messages")
            .forEach(
                m ->
                    messages.add(
                        new ChatMessage(m.path("role").asText(), m.path("content").asText())));
        tests.add(
            DynamicTest.dynamicTest(
                name + " / " + c.path("name").asText(),
                () -> {
                  if (c.has("prompt")) {
                    assertEquals(c.path("prompt").asText(), template.render(messages));
                  } else {
                    IllegalArgumentException e =
                        assertThrows(
                            IllegalArgumentException.class, () -> template.render(messages));
                    assertTrue(
                        e.getMessage().endsWith(": " + c.path("error").asText()), e.getMessage());
                  }
                }));
      }
    }
    return tests.stream();
  }

  /**
   * A model directory whose tokenizer_config.json holds the golden's template and special tokens.
   */
  private Path modelDir(JsonNode golden) throws IOException {
    String source = golden.path("source").asText();
    Path dir = Files.createDirectories(tmp.resolve(golden.path("template").asText()));
    ObjectNode config;
    if (source.endsWith(".json")) {
      config =
          (ObjectNode)
              JSON.readTree(resource(source)); // the real tokenizer_config.json, as shipped
    } else {
      config = JSON.createObjectNode();
      golden
          .path("special_tokens")
          .fields()
          .forEachRemaining(e -> config.set(e.getKey(), e.getValue()));
      config.put(
          "chat_template", new String(resource(source).readAllBytes(), StandardCharsets.UTF_8));
    }
    JSON.writeValue(dir.resolve("tokenizer_config.json").toFile(), config);
    return dir;
  }

  static InputStream resource(String path) {
    InputStream in = ChatTemplateGoldenTest.class.getClassLoader().getResourceAsStream(path);
    if (in == null) {
      throw new IllegalStateException("missing test resource " + path);
    }
    return in;
  }
}

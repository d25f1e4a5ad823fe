package dev.ncalign.lm.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ncalign.lm.chat.ChatMessage;
import dev.ncalign.lm.chat.ChatTemplate;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Cost of chat templates (not a unit test: no timing assertions): the first template in a JVM
 * (GraalJS engine start, the @huggingface/jinja bundle, the compile), a second one, and one render
 * of a six-message conversation with Qwen3's template. Prints wall and this thread's CPU time: on a
 * shared machine the CPU time is the steadier figure. Arg: renders per round, e.g. {@code 1000}.
 *
 * <pre>
 * mvn -o -q -pl lm test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/lm.cp
 * java -cp lm/target/test-classes:lm/target/classes:$(cat /tmp/lm.cp) \
 *     dev.ncalign.lm.bench.ChatTemplateBench 1000
 * </pre>
 */
public final class ChatTemplateBench {

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private ChatTemplateBench() {}

  public static void main(String[] args) throws Exception {
    int renders = Integer.parseInt(args[0]);
    String qwen;
    try (InputStream in = resource("qwen3-tokenizer/tokenizer_config.json")) {
      qwen = new ObjectMapper().readTree(in).path("chat_template").asText();
    }
    String gemma;
    try (InputStream in = resource("chat/templates/gemma-style.jinja")) {
      gemma = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    List<ChatMessage> conversation =
        List.of(
            ChatMessage.system("You are a concise assistant."),
            ChatMessage.user("Hi!"),
            ChatMessage.assistant("Hello! How can I help?"),
            ChatMessage.user("Tell me a joke."),
            ChatMessage.assistant("Why did the chicken cross the road?"),
            ChatMessage.user("Why?"));

    long[] t = start();
    ChatTemplate first = ChatTemplate.of(qwen, Map.of("eos_token", "<|im_end|>"));
    report("first template (engine start + bundle + compile)", t, 1);
    t = start();
    first.render(conversation);
    report("its first render", t, 1);
    t = start();
    try (ChatTemplate second = ChatTemplate.of(gemma, Map.of("bos_token", "<bos>"))) {
      second.render(conversation.subList(1, 6));
    }
    report("second template, compile + first render", t, 1);
    for (int round = 0; round < 4; round++) {
      t = start();
      for (int i = 0; i < renders; i++) {
        first.render(conversation);
      }
      report("Qwen3 six-message render, round " + round, t, renders);
    }
    first.close();
  }

  private static long[] start() {
    return new long[] {System.nanoTime(), THREADS.getCurrentThreadCpuTime()};
  }

  private static void report(String what, long[] start, int n) {
    double wall = (System.nanoTime() - start[0]) / 1e6 / n;
    double cpu = (THREADS.getCurrentThreadCpuTime() - start[1]) / 1e6 / n;
    System.out.printf("%s: %.3f ms wall, %.3f ms cpu%n", what, wall, cpu);
  }

  private static InputStream resource(String path) {
    InputStream in = ChatTemplateBench.class.getClassLoader().getResourceAsStream(path);
    if (in == null) {
      throw new IllegalStateException("missing resource " + path);
    }
    return in;
  }
}

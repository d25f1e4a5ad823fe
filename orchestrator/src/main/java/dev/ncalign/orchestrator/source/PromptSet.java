package dev.ncalign.orchestrator.source;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The prompts of a run, split once into training prompts and held-out evaluation prompts (every
 * fifth distinct prompt is held out), so online and offline runs are evaluated on the same prompts.
 */
public record PromptSet(List<String> train, List<String> eval) {
  private static final int HOLD_OUT_EVERY = 5;

  public PromptSet {
    if (train.isEmpty()) {
      throw new IllegalArgumentException("no training prompts");
    }
    train = List.copyOf(train);
    eval = List.copyOf(eval);
  }

  /** Every {@code "prompt"} of a JSONL file. */
  public static PromptSet load(Path file) {
    return split(readJsonl(file));
  }

  /**
   * Splits distinct prompts: each fifth goes to evaluation (none when there are fewer than five).
   */
  public static PromptSet split(List<String> prompts) {
    List<String> distinct = prompts.stream().distinct().toList();
    List<String> train = new ArrayList<>();
    List<String> eval = new ArrayList<>();
    for (int i = 0; i < distinct.size(); i++) {
      boolean holdOut =
          distinct.size() >= HOLD_OUT_EVERY && i % HOLD_OUT_EVERY == HOLD_OUT_EVERY - 1;
      (holdOut ? eval : train).add(distinct.get(i));
    }
    return new PromptSet(train, eval);
  }

  /**
   * The {@code count} training prompts of a round, drawn without replacement while they last. A
   * function of (seed, round) only, so a resumed run draws what the interrupted one would have.
   */
  public List<String> forRound(long seed, int round, int count) {
    Random random = new Random(seed * 1_000_003L + round);
    List<String> out = new ArrayList<>(count);
    List<String> pool = new ArrayList<>();
    while (out.size() < count) {
      if (pool.isEmpty()) {
        pool.addAll(train);
      }
      out.add(pool.remove(random.nextInt(pool.size())));
    }
    return out;
  }

  /**
   * {@code count} evaluation prompts, cycling through the held-out ones (training ones if none are
   * held out).
   */
  public List<String> evalPrompts(int count) {
    List<String> source = eval.isEmpty() ? train : eval;
    List<String> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      out.add(source.get(i % source.size()));
    }
    return out;
  }

  private static List<String> readJsonl(Path file) {
    ObjectMapper json = new ObjectMapper();
    List<String> prompts = new ArrayList<>();
    try {
      int line = 0;
      for (String text : Files.readAllLines(file)) {
        line++;
        if (text.isBlank()) {
          continue;
        }
        JsonNode node = json.readTree(text);
        if (!node.path("prompt").isTextual()) {
          throw new IllegalArgumentException(
              file + ":" + line + ": expected {\"prompt\": \"...\"}");
        }
        prompts.add(node.get("prompt").asText());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read prompts from " + file, e);
    }
    return prompts;
  }
}

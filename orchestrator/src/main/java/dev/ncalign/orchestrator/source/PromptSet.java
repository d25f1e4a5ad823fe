package dev.ncalign.orchestrator.source;

import dev.ncalign.lm.chat.ChatPromptEncoder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;

/**
 * The prompts of a run, split once into training prompts and held-out evaluation prompts (every
 * fifth distinct prompt is held out), so online and offline runs are evaluated on the same prompts.
 */
public record PromptSet(List<Prompt> train, List<Prompt> eval) {
  private static final int HOLD_OUT_EVERY = 5;

  public PromptSet {
    if (train.isEmpty()) {
      throw new IllegalArgumentException("no training prompts");
    }
    train = List.copyOf(train);
    eval = List.copyOf(eval);
  }

  /**
   * Every prompt of a JSONL file (see {@link PromptFile}); {@code chat} renders conversations when
   * {@code prompts.chat} is on.
   */
  public static PromptSet load(Path file, Optional<ChatPromptEncoder> chat) {
    return split(PromptFile.read(file, chat));
  }

  /** Plain-text prompts, split as {@link #split} does. */
  public static PromptSet plain(List<String> texts) {
    return split(texts.stream().map(Prompt::plain).toList());
  }

  /**
   * Splits distinct prompts: each fifth goes to evaluation (none when there are fewer than five).
   */
  public static PromptSet split(List<Prompt> prompts) {
    List<Prompt> distinct = prompts.stream().distinct().toList();
    List<Prompt> train = new ArrayList<>();
    List<Prompt> eval = new ArrayList<>();
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
  public List<Prompt> forRound(long seed, int round, int count) {
    Random random = new Random(seed * 1_000_003L + round);
    List<Prompt> out = new ArrayList<>(count);
    List<Prompt> pool = new ArrayList<>();
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
  public List<Prompt> evalPrompts(int count) {
    List<Prompt> source = eval.isEmpty() ? train : eval;
    List<Prompt> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      out.add(source.get(i % source.size()));
    }
    return out;
  }
}

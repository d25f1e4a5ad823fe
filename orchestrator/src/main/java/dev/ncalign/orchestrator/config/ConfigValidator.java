package dev.ncalign.orchestrator.config;

import dev.ncalign.lm.lora.LoraConfig;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Range and consistency checks on a bound {@link RunConfig}. The first problem found is thrown as a
 * {@link ConfigException} naming the field, so a run never starts on a config that would fail
 * later.
 */
public final class ConfigValidator {

  private ConfigValidator() {}

  /** Every value in range and every required section present; touches no file. */
  public static void checkValues(RunConfig c) {
    present(c.run(), "run");
    present(c.mode(), "mode");
    present(c.run().dir(), "run.dir");
    atLeast(c.run().rounds(), 1, "run.rounds");
    atLeast(c.run().checkpointEvery(), 1, "run.checkpoint_every");

    service(c.policy(), "policy");
    service(c.reward(), "reward");

    present(c.loss(), "loss");
    present(c.loss().type(), "loss.type");
    positive(c.loss().beta(), "loss.beta");
    positive(c.loss().alpha(), "loss.alpha");

    RunConfig.Optimizer o = present(c.optimizer(), "optimizer");
    check(o.lr() > 0 && o.lr() <= 1, "optimizer.lr", "in (0, 1]", o.lr());
    atLeast(o.weightDecay(), 0, "optimizer.weight_decay");
    atLeast(o.warmupSteps(), 0, "optimizer.warmup_steps");
    atLeast(o.maxGradNorm(), 0, "optimizer.max_grad_norm");
    atLeast(o.epochsPerRound(), 1, "optimizer.epochs_per_round");
    atLeast(o.minibatchTokens(), 1, "optimizer.minibatch_tokens");
    atLeast(o.gradAccumulation(), 1, "optimizer.grad_accumulation");
    present(o.schedule(), "optimizer.schedule");

    lora(present(c.lora(), "lora"));

    RunConfig.Sampling s = present(c.sampling(), "sampling");
    atLeast(s.promptsPerRound(), 1, "sampling.prompts_per_round");
    // Every loss contrasts responses of the same prompt, so one sample per prompt teaches nothing.
    atLeast(s.k(), 2, "sampling.k");
    atLeast(s.maxNewTokens(), 1, "sampling.max_new_tokens");
    positive(s.temperature(), "sampling.temperature");
    check(s.topP() > 0 && s.topP() <= 1, "sampling.top_p", "in (0, 1]", s.topP());
    atLeast(s.topK(), 0, "sampling.top_k");

    atLeast(present(c.loop(), "loop").maxStaleness(), 0, "loop.max_staleness");

    RunConfig.Prompts p = present(c.prompts(), "prompts");
    if (p.file() == null) {
      throw new ConfigException(
          "prompts.file must be set (a JSONL file of {\"prompt\": ...} lines)");
    }
    atLeast(p.evalCount(), 0, "prompts.eval_count");
    atLeast(p.evalEvery(), 0, "prompts.eval_every");

    RunConfig.Offline off = present(c.offline(), "offline");
    if (c.mode() == Mode.OFFLINE && off.dataset() == null) {
      throw new ConfigException("offline.dataset must be set when mode is offline");
    }
    atLeast(off.epochs(), 1, "offline.epochs");

    RunConfig.Clients cl = present(c.clients(), "clients");
    positive(cl.deadlineSeconds(), "clients.deadline_seconds");
    atLeast(cl.retries(), 0, "clients.retries");
    positive(cl.replicaTimeoutSeconds(), "clients.replica_timeout_seconds");
    check(
        List.of("auto", "float32", "bfloat16", "float16").contains(cl.pushDtype()),
        "clients.push_dtype",
        "one of auto, float32, bfloat16, float16",
        cl.pushDtype());

    int port = present(c.dashboard(), "dashboard").port();
    check(port >= 0 && port <= 65535, "dashboard.port", "in [0, 65535]", port);

    if (c.grid() != null) {
      nonEmpty(c.grid().losses(), "grid.losses");
      nonEmpty(c.grid().modes(), "grid.modes");
      nonEmpty(c.grid().seeds(), "grid.seeds");
    }
    if (p.chat() && trainsOffline(c)) {
      // An offline dataset stores prompt text, not conversations; its prompts are tokenized plain.
      throw new ConfigException(
          "prompts.chat: true needs mode online, without offline grid cells (offline datasets"
              + " hold prompt text)");
    }
  }

  /**
   * Every file the run will read exists: models of locally started servers, the prompt file, the
   * offline dataset and the token file. Separate from {@link #checkValues} because the demo builds
   * its model directories after reading the config.
   */
  public static void checkFiles(RunConfig c) {
    if (c.policy().local()) {
      directory(c.policy().model(), "policy.model");
    }
    if (c.reward().local()) {
      directory(c.reward().model(), "reward.model");
    }
    file(c.prompts().file(), "prompts.file");
    if (trainsOffline(c)) {
      file(c.offline().dataset(), "offline.dataset");
    }
    file(c.clients().tokenFile(), "clients.token_file");
  }

  /** Whether the run, or a cell of its grid, trains on an offline dataset. */
  private static boolean trainsOffline(RunConfig c) {
    return c.mode() == Mode.OFFLINE
        || (c.grid() != null && c.grid().modes().contains(Mode.OFFLINE));
  }

  private static void lora(RunConfig.Lora l) {
    atLeast(l.rank(), 0, "lora.rank");
    positive(l.alpha(), "lora.alpha");
    check(l.dropout() >= 0 && l.dropout() < 1, "lora.dropout", "in [0, 1)", l.dropout());
    nonEmpty(l.targets(), "lora.targets");
    for (int i = 0; i < l.targets().size(); i++) {
      String t = l.targets().get(i);
      check(
          LoraConfig.KNOWN_TARGETS.contains(t),
          "lora.targets[" + i + "]",
          "one of " + LoraConfig.KNOWN_TARGETS,
          t);
      check(l.targets().indexOf(t) == i, "lora.targets[" + i + "]", "listed once", t);
    }
  }

  private static void service(RunConfig.Service s, String name) {
    present(s, name);
    List<String> targets = present(s.targets(), name + ".targets");
    for (int i = 0; i < targets.size(); i++) {
      String t = targets.get(i);
      check(t != null && isHostPort(t), name + ".targets[" + i + "]", "host:port", t);
    }
    if (targets.isEmpty()) {
      present(s.model(), name + ".model");
    }
  }

  private static boolean isHostPort(String target) {
    int colon = target.lastIndexOf(':');
    if (colon <= 0 || colon == target.length() - 1) {
      return false;
    }
    try {
      int port = Integer.parseInt(target.substring(colon + 1));
      return port > 0 && port <= 65535;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private static void directory(Path path, String field) {
    if (path != null && !Files.isDirectory(path)) {
      throw new ConfigException(field + ": no such directory " + path.toAbsolutePath().normalize());
    }
  }

  private static void file(Path path, String field) {
    if (path != null && !Files.isRegularFile(path)) {
      throw new ConfigException(field + ": no such file " + path.toAbsolutePath().normalize());
    }
  }

  private static <T> T present(T value, String field) {
    if (value == null) {
      throw new ConfigException(field + " must be set");
    }
    return value;
  }

  private static void nonEmpty(List<?> values, String field) {
    if (values == null || values.isEmpty()) {
      throw new ConfigException(field + " must list at least one value");
    }
  }

  private static void positive(double value, String field) {
    check(value > 0, field, "> 0", value);
  }

  private static void atLeast(double value, double min, String field) {
    check(value >= min, field, ">= " + number(min), value);
  }

  private static void check(boolean ok, String field, String rule, Object got) {
    if (!ok) {
      throw new ConfigException(field + " must be " + rule + " (got " + number(got) + ")");
    }
  }

  /** -1.0 reads as -1 and 2.0E-4 as 0.0002: the number as the user would have typed it. */
  private static String number(Object value) {
    if (value instanceof Double d && Double.isFinite(d)) {
      return BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
    }
    return String.valueOf(value);
  }
}

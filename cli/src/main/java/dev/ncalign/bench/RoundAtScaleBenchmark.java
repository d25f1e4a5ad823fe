package dev.ncalign.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ncalign.demo.DemoAssets;
import dev.ncalign.lm.bench.LoadAverage;
import dev.ncalign.lm.bench.QwenShapedModel;
import dev.ncalign.lm.io.DirectoryTrees;
import dev.ncalign.orchestrator.store.RoundMetrics;
import dev.ncalign.orchestrator.store.RunStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Whole online rounds at real size: {@code ncalign train} on the Qwen2.5-0.5B-shaped model (P = 2,
 * K = 2, 8 new tokens, 2 rounds) in a fresh JVM that starts its own policy and reward servers, once
 * with full fine-tuning and once with a rank-8 LoRA adapter. While it runs, the resident memory of
 * the learner, the policy server and the reward server is sampled twice a second; the run's own
 * metrics give each round's time, learning time, push time and bytes.
 */
public final class RoundAtScaleBenchmark {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long POLL_MILLIS = 500;

  /**
   * @param modelDir cache of the 0.5B-shaped model (written when missing)
   * @param assets the demo model cache: its reward model and prompts
   * @param out result directory: {@code round-0.5b.json}, {@code round-0.5b.md}, runs under {@code
   *     runs/}
   * @param heap the child JVM's {@code -Xmx}
   */
  public record Options(Path modelDir, Path assets, Path out, String heap) {}

  /** A variant of the run: a name and the config lines that make it. */
  record Variant(String name, String lora) {}

  private static final List<Variant> VARIANTS =
      List.of(new Variant("full", "lora: {rank: 0}"), new Variant("lora-r8", "lora: {rank: 8}"));

  private RoundAtScaleBenchmark() {}

  /** Runs both variants and writes the results into {@code options.out()}. */
  public static ObjectNode run(Options options, Consumer<String> progress) {
    Path model = QwenShapedModel.ensure(options.modelDir());
    DemoAssets.Paths demo = DemoAssets.ensure(options.assets(), progress);
    ObjectNode report = JSON.createObjectNode();
    report.put("load_average_before", LoadAverage.now());
    ArrayNode runs = report.putArray("runs");
    for (Variant variant : VARIANTS) {
      progress.accept("0.5B-shaped online run, " + variant.name() + " (a few minutes) ...");
      runs.add(measure(options, model, demo, variant, progress));
    }
    report.put("load_average_after", LoadAverage.now());
    write(options.out(), report);
    return report;
  }

  private static ObjectNode measure(
      Options options,
      Path model,
      DemoAssets.Paths demo,
      Variant variant,
      Consumer<String> progress) {
    Path dir = options.out().resolve("runs").resolve("round-0.5b-" + variant.name());
    Path config = options.out().resolve("runs").resolve("round-0.5b-" + variant.name() + ".yaml");
    try {
      Files.createDirectories(config.getParent());
      DirectoryTrees.delete(dir);
      Files.writeString(
          config,
          """
          run: {dir: %s, seed: 1, rounds: 2, checkpoint_every: 2}
          mode: online
          policy: {model: %s}
          reward: {model: %s}
          loss: {type: NCA, beta: 0.1, alpha: 1.0}
          optimizer: {lr: 1.0e-5, warmup_steps: 0, epochs_per_round: 1, minibatch_tokens: 4096}
          %s
          sampling: {prompts_per_round: 2, k: 2, max_new_tokens: 8}
          prompts: {file: %s, eval_count: 0, eval_every: 0}
          clients: {deadline_seconds: 1800}
          """
              .formatted(dir, model, demo.reward(), variant.lora(), demo.prompts()));
      List<String> command =
          List.of(
              ProcessHandle.current().info().command().orElse("java"),
              "-Xmx" + options.heap(),
              "-Dai.djl.offline=true",
              "-Dai.djl.pytorch.num_threads=1",
              "-cp",
              System.getProperty("java.class.path"),
              "dev.ncalign.cli.Ncalign",
              "train",
              "--config",
              config.toString());
      long start = System.nanoTime();
      Process child =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(dir.resolveSibling("round-0.5b-" + variant.name() + ".log").toFile())
              .start();
      Map<String, Long> peakKib = new HashMap<>();
      long peakTotalKib = 0;
      while (!child.waitFor(POLL_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS)) {
        long total = 0;
        List<ProcessHandle> processes = new ArrayList<>(child.descendants().toList());
        processes.add(child.toHandle());
        for (ProcessHandle p : processes) {
          String role = role(p.pid());
          if (role != null) {
            long[] memory = memoryKib(p.pid());
            total += memory[0];
            peakKib.merge(role, memory[1], Math::max);
          }
        }
        peakTotalKib = Math.max(peakTotalKib, total);
      }
      double wall = (System.nanoTime() - start) / 1e9;
      if (child.exitValue() != 0) {
        throw new IllegalStateException(
            variant.name() + " run failed (exit " + child.exitValue() + "), see its log in " + dir);
      }
      ObjectNode run = JSON.createObjectNode();
      run.put("name", variant.name());
      run.put("wall_seconds_including_start", wall);
      ArrayNode rounds = run.putArray("rounds");
      for (RoundMetrics m : RunStore.open(dir).metrics()) {
        ObjectNode round = rounds.addObject();
        round.put("round", m.round());
        round.put("round_seconds", m.roundSeconds());
        round.put("generate_seconds", m.generateSeconds());
        round.put("score_seconds", m.scoreSeconds());
        round.put("learn_seconds", m.learnSeconds());
        round.put("push_seconds", m.pushSeconds());
        round.put("push_bytes", m.pushBytes());
      }
      peakKib.forEach((role, kib) -> run.put("peak_rss_" + role + "_mib", kib / 1024.0));
      run.put("peak_rss_all_processes_mib", peakTotalKib / 1024.0);
      progress.accept("  " + run);
      return run;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** learner, policy or reward by the process's main class; null for anything else. */
  private static String role(long pid) {
    try {
      String cmdline =
          new String(
              Files.readAllBytes(Path.of("/proc", pid + "", "cmdline")), StandardCharsets.UTF_8);
      if (cmdline.contains("dev.ncalign.cli.Ncalign")) {
        return "learner";
      }
      if (cmdline.contains("dev.ncalign.policy.Main")) {
        return "policy";
      }
      if (cmdline.contains("dev.ncalign.reward.Main")) {
        return "reward";
      }
      return null;
    } catch (IOException e) {
      return null; // gone meanwhile
    }
  }

  /** {VmRSS, VmHWM} of a process in KiB; zeros once it is gone. */
  private static long[] memoryKib(long pid) {
    long[] values = new long[2];
    try {
      for (String line : Files.readAllLines(Path.of("/proc", pid + "", "status"))) {
        if (line.startsWith("VmRSS:")) {
          values[0] = Long.parseLong(line.replaceAll("\\D", ""));
        } else if (line.startsWith("VmHWM:")) {
          values[1] = Long.parseLong(line.replaceAll("\\D", ""));
        }
      }
    } catch (IOException | NumberFormatException e) {
      // gone meanwhile
    }
    return values;
  }

  private static void write(Path out, ObjectNode report) {
    StringBuilder md = new StringBuilder();
    md.append(
        "| run | round | round s | generate s | score s | learn s | push s | push bytes |\n"
            + "|---|---|---|---|---|---|---|---|\n");
    for (var run : report.get("runs")) {
      for (var r : run.get("rounds")) {
        md.append(
            String.format(
                Locale.ROOT,
                "| %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %,d |%n",
                run.get("name").asText(),
                r.get("round").asInt(),
                r.get("round_seconds").asDouble(),
                r.get("generate_seconds").asDouble(),
                r.get("score_seconds").asDouble(),
                r.get("learn_seconds").asDouble(),
                r.get("push_seconds").asDouble(),
                r.get("push_bytes").asLong()));
      }
    }
    md.append(
        "\n| run | peak RSS learner MiB | policy server MiB | reward server MiB | all processes"
            + " together MiB |\n|---|---|---|---|---|\n");
    for (var run : report.get("runs")) {
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | %.0f | %.0f | %.0f | %.0f |%n",
              run.get("name").asText(),
              run.path("peak_rss_learner_mib").asDouble(),
              run.path("peak_rss_policy_mib").asDouble(),
              run.path("peak_rss_reward_mib").asDouble(),
              run.get("peak_rss_all_processes_mib").asDouble()));
    }
    md.append(
        "\nLoad average before: "
            + report.get("load_average_before").asText()
            + ", after: "
            + report.get("load_average_after").asText()
            + "\n");
    try {
      Files.createDirectories(out);
      JSON.writerWithDefaultPrettyPrinter()
          .writeValue(out.resolve("round-0.5b.json").toFile(), report);
      Files.writeString(out.resolve("round-0.5b.md"), md.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write results to " + out, e);
    }
  }
}

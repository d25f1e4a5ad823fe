package dev.ncalign.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ncalign.demo.DemoAssets;
import dev.ncalign.lm.bench.LoadAverage;
import dev.ncalign.lm.io.DirectoryTrees;
import dev.ncalign.orchestrator.config.ConfigLoader;
import dev.ncalign.orchestrator.config.RunConfig;
import dev.ncalign.orchestrator.loop.AlignmentRun;
import dev.ncalign.orchestrator.report.MetricsPlot;
import dev.ncalign.orchestrator.store.RoundMetrics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The loop's own cost, on the demo: how much of a synchronous round is orchestrator overhead (wall
 * time outside generate, score, reference scoring, learn and push), and what {@code
 * loop.max_staleness: 1} buys over the synchronous loop (wall time of the same rounds, held-out
 * reward on the way).
 *
 * <p>Runs of the demo config in this JVM, each starting its own policy and reward server: {@code
 * overhead} (max_staleness 0, no evaluation, so nothing but the four phases should take time), then
 * {@code repeats} pairs of {@code staleness-0} and {@code staleness-1} (evaluation every 2 rounds,
 * as the demo), back to back so that a change in the machine's load hits both arms of a pair. The
 * ratio reported is the median of the pairs' ratios; the table shows the pair closest to it. Wall
 * time counts the rounds only, not starting the servers.
 */
public final class LoopBenchmark {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * @param demoConfig the demo's run config ({@code configs/demo.yaml})
   * @param assets the demo model cache, built when missing
   * @param out result directory: {@code loop.json}, {@code loop.md}, {@code loop-eval-reward.png}
   *     and the runs under {@code runs/}
   * @param rounds rounds per run
   * @param repeats pairs of synchronous and pipelined runs, ≥ 1
   */
  public record Options(Path demoConfig, Path assets, Path out, int rounds, int repeats) {
    public Options {
      if (repeats < 1) {
        throw new IllegalArgumentException("repeats must be >= 1, got " + repeats);
      }
    }
  }

  /** One measured run. */
  record Measured(String name, int maxStaleness, double wallSeconds, List<RoundMetrics> rows) {}

  private LoopBenchmark() {}

  /** Runs the three demo runs and writes the results into {@code options.out()}. */
  public static ObjectNode run(Options options, Consumer<String> progress) {
    DemoAssets.Paths assets = DemoAssets.ensure(options.assets(), progress);
    String loadBefore = LoadAverage.now();
    Measured overhead = measure(options, assets, "overhead", 0, false, progress);
    List<Measured[]> pairs = new ArrayList<>();
    for (int i = 0; i < options.repeats(); i++) {
      pairs.add(
          new Measured[] {
            measure(options, assets, "staleness-0", 0, true, progress),
            measure(options, assets, "staleness-1", 1, true, progress)
          });
    }
    double[] ratios =
        pairs.stream().mapToDouble(p -> p[1].wallSeconds() / p[0].wallSeconds()).toArray();
    double median = median(ratios);
    Measured[] shown =
        pairs.stream()
            .min(
                Comparator.comparingDouble(
                    p -> Math.abs(p[1].wallSeconds() / p[0].wallSeconds() - median)))
            .orElseThrow();
    Measured sync = shown[0];
    Measured pipelined = shown[1];

    ObjectNode report = JSON.createObjectNode();
    report.put("rounds", options.rounds());
    report.put("load_average_before", loadBefore);
    report.put("load_average_after", LoadAverage.now());
    report.put("overhead_share", overheadShare(overhead));
    report.put(
        "overhead_round_seconds", overhead.wallSeconds() / Math.max(1, overhead.rows().size()));
    report.put("staleness_1_wall_ratio", median);
    ArrayNode pairRatios = report.putArray("pair_ratios");
    Arrays.stream(ratios).forEach(pairRatios::add);
    ArrayNode runs = report.putArray("runs");
    for (Measured m : List.of(overhead, sync, pipelined)) {
      runs.add(summary(m));
    }
    write(options.out(), report, sync, pipelined);
    return report;
  }

  /** The middle value, or the mean of the two middle ones. */
  static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  private static Measured measure(
      Options options,
      DemoAssets.Paths assets,
      String name,
      int maxStaleness,
      boolean evaluate,
      Consumer<String> progress) {
    Path dir = options.out().resolve("runs").resolve(name);
    try {
      DirectoryTrees.delete(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot clear " + dir, e);
    }
    List<String> settings =
        new ArrayList<>(
            List.of(
                "policy.model=" + assets.policyBase(),
                "reward.model=" + assets.reward(),
                "prompts.file=" + assets.prompts(),
                "run.dir=" + dir,
                "run.rounds=" + options.rounds(),
                "run.checkpoint_every=" + options.rounds(),
                "loop.max_staleness=" + maxStaleness));
    if (!evaluate) {
      settings.add("prompts.eval_every=0");
    }
    RunConfig config = ConfigLoader.load(options.demoConfig(), settings);
    progress.accept(
        String.format(
            Locale.ROOT,
            "%s: %d demo rounds, max_staleness %d%s ...",
            name,
            options.rounds(),
            maxStaleness,
            evaluate ? ", held-out evaluation every " + config.prompts().evalEvery() : ""));
    try (AlignmentRun run = AlignmentRun.open(config, false, List.of())) {
      long start = System.nanoTime();
      run.run();
      double wall = (System.nanoTime() - start) / 1e9;
      Measured measured = new Measured(name, maxStaleness, wall, run.store().metrics());
      progress.accept(String.format(Locale.ROOT, "  %.1f s of rounds", wall));
      return measured;
    }
  }

  /**
   * The share of the rounds' wall time in which none of generate, score, reference scoring, learn
   * and push ran: what the orchestrator itself costs (scheduling, batching, bookkeeping, gRPC
   * framing on its side).
   */
  static double overheadShare(Measured m) {
    double phases = sum(m, RoundMetrics::phaseSeconds);
    return Math.max(0, 1 - phases / m.wallSeconds());
  }

  private static ObjectNode summary(Measured m) {
    ObjectNode run = JSON.createObjectNode();
    run.put("name", m.name());
    run.put("max_staleness", m.maxStaleness());
    run.put("wall_seconds", m.wallSeconds());
    run.put("generate_seconds", sum(m, RoundMetrics::generateSeconds));
    run.put("score_seconds", sum(m, RoundMetrics::scoreSeconds));
    run.put("reference_seconds", sum(m, RoundMetrics::referenceSeconds));
    run.put("learn_seconds", sum(m, RoundMetrics::learnSeconds));
    run.put("push_seconds", sum(m, RoundMetrics::pushSeconds));
    run.put("eval_seconds", sum(m, RoundMetrics::evalSeconds));
    run.put("learner_wait_seconds", sum(m, RoundMetrics::learnerWaitSeconds));
    run.put("sampler_wait_seconds", sum(m, RoundMetrics::samplerWaitSeconds));
    run.put(
        "max_staleness_seen",
        m.rows().stream()
            .map(RoundMetrics::staleness)
            .filter(Objects::nonNull)
            .reduce(0L, Math::max));
    List<Double> evals = evalRewards(m);
    if (!evals.isEmpty()) {
      run.put("first_eval_reward", evals.get(0));
      run.put("last_eval_reward", evals.get(evals.size() - 1));
    }
    run.put("last_mean_reward", m.rows().get(m.rows().size() - 1).meanReward());
    return run;
  }

  private static List<Double> evalRewards(Measured m) {
    return m.rows().stream().map(RoundMetrics::evalReward).filter(Objects::nonNull).toList();
  }

  private static double sum(Measured m, java.util.function.ToDoubleFunction<RoundMetrics> f) {
    return m.rows().stream().mapToDouble(f).sum();
  }

  private static void write(Path out, ObjectNode report, Measured sync, Measured pipelined) {
    Map<String, List<RoundMetrics>> series = new LinkedHashMap<>();
    series.put("max_staleness 0", sync.rows());
    series.put("max_staleness 1", pipelined.rows());
    try {
      Files.createDirectories(out);
      JSON.writerWithDefaultPrettyPrinter().writeValue(out.resolve("loop.json").toFile(), report);
      Files.writeString(out.resolve("loop.md"), markdown(report));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write results to " + out, e);
    }
    MetricsPlot.plotCompare(
        series, RoundMetrics::evalReward, "held-out reward", out.resolve("loop-eval-reward.png"));
  }

  private static String markdown(ObjectNode report) {
    StringBuilder md = new StringBuilder();
    md.append(
        "| run | max_staleness | wall s (rounds only) | generate s | score s | reference s |"
            + " learn s | push s |"
            + " eval s | learner waited s | sampler waited s | held-out reward first → last |\n");
    md.append("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (var run : report.get("runs")) {
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %s |%n",
              run.get("name").asText(),
              run.get("max_staleness").asInt(),
              run.get("wall_seconds").asDouble(),
              run.get("generate_seconds").asDouble(),
              run.get("score_seconds").asDouble(),
              run.get("reference_seconds").asDouble(),
              run.get("learn_seconds").asDouble(),
              run.get("push_seconds").asDouble(),
              run.get("eval_seconds").asDouble(),
              run.get("learner_wait_seconds").asDouble(),
              run.get("sampler_wait_seconds").asDouble(),
              run.has("first_eval_reward")
                  ? String.format(
                      Locale.ROOT,
                      "%.3f → %.3f",
                      run.get("first_eval_reward").asDouble(),
                      run.get("last_eval_reward").asDouble())
                  : "–"));
    }
    md.append(
        String.format(
            Locale.ROOT,
            "%nOrchestrator overhead (share of the `overhead` run's wall time outside generate,"
                + " score, reference scoring, learn and push): %.1f %%. `max_staleness: 1` took %.2f× the synchronous"
                + " wall time (median of %d back-to-back pairs: %s; the table shows the pair"
                + " closest to it). Load average (1, 5, 15 min) %s before, %s after.%n",
            100 * report.get("overhead_share").asDouble(),
            report.get("staleness_1_wall_ratio").asDouble(),
            report.get("pair_ratios").size(),
            ratios(report.get("pair_ratios")),
            report.get("load_average_before").asText(),
            report.get("load_average_after").asText()));
    return md.toString();
  }

  private static String ratios(Iterable<JsonNode> values) {
    List<String> out = new ArrayList<>();
    values.forEach(v -> out.add(String.format(Locale.ROOT, "%.2f×", v.asDouble())));
    return String.join(", ", out);
  }
}

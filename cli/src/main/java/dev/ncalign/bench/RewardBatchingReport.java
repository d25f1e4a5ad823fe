package dev.ncalign.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ncalign.lm.bench.SvgLinePlot;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Writes a {@link RewardBatchingBenchmark} result as {@code reward-batching.json}, a Markdown table
 * {@code reward-batching.md}, one items/s plot per model ({@code reward-batching-<model>.svg}) and
 * the batched ÷ one-by-one ratios of every model ({@code reward-batching-ratio.svg}).
 */
final class RewardBatchingReport {

  /** Series colours: one per arm in a model's plot, one per model and arm in the ratio plot. */
  private static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"};

  /** Issue 14's target on the 2-core machine: batching ≥ 3× one-by-one at 64 callers. */
  static final double TARGET_RATIO = 3;

  private RewardBatchingReport() {}

  static void write(Path outDir, ObjectNode report) {
    try {
      Files.createDirectories(outDir);
      new ObjectMapper()
          .writerWithDefaultPrettyPrinter()
          .writeValue(outDir.resolve("reward-batching.json").toFile(), report);
      Files.writeString(outDir.resolve("reward-batching.md"), markdown(report));
      SvgLinePlot ratios =
          new SvgLinePlot(
              "Dynamic batching speed-up on the reward server",
              "concurrent callers",
              "items/s batched ÷ one-by-one");
      int index = 0;
      for (JsonNode model : report.get("models")) {
        String name = model.get("name").asText();
        ratios.series(name + " batched", COLORS[index++ % COLORS.length], points(model, "ratio"));
        ratios.series(
            name + " no wait", COLORS[index++ % COLORS.length], points(model, "ratio_no_wait"));
        SvgLinePlot throughput =
            new SvgLinePlot(
                "Reward server throughput, " + name + " model",
                "concurrent callers (one item per call)",
                "items/s");
        int arm = 0;
        for (String key : List.of("one_by_one", "batched", "batched_no_wait")) {
          throughput.series(key.replace('_', '-'), COLORS[arm++], points(model, key));
        }
        Files.writeString(outDir.resolve("reward-batching-" + name + ".svg"), throughput.render());
      }
      List<double[]> target = new ArrayList<>();
      report
          .get("models")
          .get(0)
          .get("points")
          .forEach(p -> target.add(new double[] {p.get("callers").asDouble(), TARGET_RATIO}));
      ratios.series("issue 14 target at 64 callers", "#999999", target);
      Files.writeString(outDir.resolve("reward-batching-ratio.svg"), ratios.render());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write results to " + outDir, e);
    }
  }

  /** (callers, {@code field} of the point) or, for an arm's key, (callers, the arm's items/s). */
  private static List<double[]> points(JsonNode model, String field) {
    List<double[]> points = new ArrayList<>();
    for (JsonNode point : model.get("points")) {
      JsonNode value = point.get(field);
      double y = value.isObject() ? value.get("items_per_second").asDouble() : value.asDouble();
      points.add(new double[] {point.get("callers").asDouble(), y});
    }
    return points;
  }

  static String markdown(JsonNode report) {
    StringBuilder md = new StringBuilder();
    md.append("| model | callers | one-by-one items/s | batched items/s | batched ÷ one-by-one |")
        .append(" no-wait items/s | no-wait ÷ one-by-one | mean batch (batched / no-wait) |")
        .append(" best-repetition batched ÷ one-by-one |")
        .append(" one-by-one model busy | bound if the model were free |")
        .append(" items per CPU-s (one-by-one / batched / no-wait) |\n")
        .append("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (JsonNode model : report.get("models")) {
      for (JsonNode point : model.get("points")) {
        JsonNode one = point.get("one_by_one");
        JsonNode batched = point.get("batched");
        JsonNode noWait = point.get("batched_no_wait");
        JsonNode bound = point.get("model_free_bound");
        md.append(
            String.format(
                Locale.ROOT,
                "| %s | %d | %.0f | %.0f | **%.2f×** | %.0f | **%.2f×** | %.1f / %.1f | %.2f× | %.0f%%"
                    + " | %s"
                    + " | %.0f / %.0f / %.0f |%n",
                model.get("name").asText(),
                point.get("callers").asInt(),
                one.get("items_per_second").asDouble(),
                batched.get("items_per_second").asDouble(),
                point.get("ratio").asDouble(),
                noWait.get("items_per_second").asDouble(),
                point.get("ratio_no_wait").asDouble(),
                batched.get("mean_batch").asDouble(),
                noWait.get("mean_batch").asDouble(),
                point.get("ratio_best").asDouble(),
                100 * one.get("model_busy").asDouble(),
                bound.isNull() ? "—" : String.format(Locale.ROOT, "%.2f×", bound.asDouble()),
                one.get("items_per_cpu_second").asDouble(),
                batched.get("items_per_cpu_second").asDouble(),
                noWait.get("items_per_cpu_second").asDouble()));
      }
    }
    md.append('\n');
    for (JsonNode model : report.get("models")) {
      md.append(
          String.format(
              "- **%s**: %s%n", model.get("name").asText(), model.get("description").asText()));
    }
    JsonNode arms = report.get("arms");
    md.append(
        String.format(
            Locale.ROOT,
            "%nArms: the same in-process reward server on the same model; one-by-one ="
                + " `--max-batch-size %d --max-wait-ms %d`, batched = `--max-batch-size %d"
                + " --max-wait-ms %d`, no-wait = `--max-batch-size %d"
                + " --max-wait-ms %d` (the defaults). Load: %s. Medians of %d repetitions of"
                + " %.1f s windows after %.1f s warm-up, the arms back to back. Machine: %d cores,"
                + " load average %s before and %s after.%n",
            arms.get("one_by_one").get("max_batch_size").asInt(),
            arms.get("one_by_one").get("max_wait_ms").asInt(),
            arms.get("batched").get("max_batch_size").asInt(),
            arms.get("batched").get("max_wait_ms").asInt(),
            arms.get("batched_no_wait").get("max_batch_size").asInt(),
            arms.get("batched_no_wait").get("max_wait_ms").asInt(),
            report.get("load").asText(),
            report.get("repetitions").asInt(),
            report.get("measure_seconds").asDouble(),
            report.get("warmup_seconds").asDouble(),
            report.get("cores").asInt(),
            report.get("load_average_before").asText(),
            report.get("load_average_after").asText()));
    return md.toString();
  }
}

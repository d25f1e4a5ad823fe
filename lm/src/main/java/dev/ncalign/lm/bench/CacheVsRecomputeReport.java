package dev.ncalign.lm.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * Writes a {@link CacheVsRecompute} report: {@code kv-vs-recompute.json} (everything measured),
 * {@code kv-vs-recompute.md} (one table per model), {@code kv-vs-recompute-<model>.svg} (tokens/s
 * of both paths against batch size) and {@code kv-vs-recompute.svg} (the KV / recompute ratio of
 * every model against batch size, on one scale).
 */
final class CacheVsRecomputeReport {

  private static final String[] COLORS = {"#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e"};

  /** A column of the Markdown table: its header and how a result row fills its cell. */
  private record Column(String header, Function<JsonNode, String> cell) {}

  private static final List<Column> COLUMNS =
      List.of(
          new Column("batch", row -> row.get("batch").asText()),
          new Column("KV cache tokens/s", row -> rate(row, "kv_cache_tokens_per_second")),
          new Column("recompute tokens/s", row -> rate(row, "recompute_tokens_per_second")),
          new Column("KV / recompute", row -> ratio(row, "speedup")),
          new Column("per CPU-second: KV", row -> rate(row, "kv_cache_tokens_per_cpu_second")),
          new Column("recompute", row -> rate(row, "recompute_tokens_per_cpu_second")),
          new Column("KV / recompute", row -> ratio(row, "cpu_speedup")),
          new Column("same tokens", row -> row.get("same_tokens").asBoolean() ? "yes" : "**no**"));

  private CacheVsRecomputeReport() {}

  static void write(Path outDir, JsonNode report) {
    try {
      Files.createDirectories(outDir);
      new ObjectMapper()
          .writerWithDefaultPrettyPrinter()
          .writeValue(outDir.resolve("kv-vs-recompute.json").toFile(), report);
      Files.writeString(outDir.resolve("kv-vs-recompute.md"), markdown(report));
      SvgLinePlot ratios =
          new SvgLinePlot(
              String.format(
                  Locale.ROOT,
                  "KV cache / recompute, %d new tokens",
                  report.get("new_tokens").asInt()),
              "batch size (rows decoded together)",
              "KV cache tokens/s ÷ recompute tokens/s");
      int i = 0;
      for (JsonNode model : report.get("models")) {
        String name = model.get("model").asText();
        Files.writeString(
            outDir.resolve("kv-vs-recompute-" + name + ".svg"), throughput(report, model));
        ratios.series(name, COLORS[i++ % COLORS.length], points(model, row -> row.get("speedup")));
      }
      Files.writeString(outDir.resolve("kv-vs-recompute.svg"), ratios.render());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write results to " + outDir, e);
    }
  }

  private static String throughput(JsonNode report, JsonNode model) {
    String title =
        String.format(
            Locale.ROOT,
            "Greedy generation, %d new tokens, %s model (%,d parameters)",
            report.get("new_tokens").asInt(),
            model.get("model").asText(),
            model.get("parameters").asLong());
    return new SvgLinePlot(title, "batch size (rows decoded together)", "tokens/s")
        .series("KV cache", "#1f77b4", points(model, row -> row.get("kv_cache_tokens_per_second")))
        .series(
            "recompute prefix",
            "#d62728",
            points(model, row -> row.get("recompute_tokens_per_second")))
        .render();
  }

  private static List<double[]> points(JsonNode model, Function<JsonNode, JsonNode> y) {
    List<double[]> points = new ArrayList<>();
    for (JsonNode row : model.get("batches")) {
      points.add(new double[] {row.get("batch").asDouble(), y.apply(row).asDouble()});
    }
    return points;
  }

  private static String rate(JsonNode row, String field) {
    return String.format(Locale.ROOT, "%,.0f", row.get(field).asDouble());
  }

  private static String ratio(JsonNode row, String field) {
    return String.format(Locale.ROOT, "%.2f ×", row.get(field).asDouble());
  }

  private static String tableRow(List<String> cells) {
    return "| " + String.join(" | ", cells) + " |\n";
  }

  static String markdown(JsonNode report) {
    StringBuilder md = new StringBuilder();
    md.append(
        String.format(
            Locale.ROOT,
            "Greedy decoding of %d new tokens from %d-token prompts, best of up to %d runs per point"
                + " (no more once a point has taken %.0f s), libtorch threads: %s; %s; load average (1, 5, 15 min) %s before, %s after."
                + " glibc MALLOC_MMAP_THRESHOLD_ '%s', MALLOC_TRIM_THRESHOLD_ '%s'."
                + " Per CPU-second: the measuring thread's CPU time.%n",
            report.get("new_tokens").asInt(),
            report.get("prompt_tokens").asInt(),
            report.get("max_runs").asInt(),
            report.get("run_budget_seconds").asDouble(),
            report.get("libtorch_threads").asText(),
            report.get("date").asText(),
            report.get("load_average_before").asText(),
            report.get("load_average_after").asText(),
            report.path("malloc_mmap_threshold").asText(),
            report.path("malloc_trim_threshold").asText()));
    for (JsonNode model : report.get("models")) {
      md.append(
          String.format(
              Locale.ROOT,
              "%n**%s** (%s; %,d parameters)%n%n",
              model.get("model").asText(),
              model.get("description").asText(),
              model.get("parameters").asLong()));
      md.append(tableRow(COLUMNS.stream().map(Column::header).toList()));
      md.append(tableRow(COLUMNS.stream().map(c -> "---").toList()));
      for (JsonNode row : model.get("batches")) {
        md.append(tableRow(COLUMNS.stream().map(c -> c.cell().apply(row)).toList()));
      }
    }
    return md.toString();
  }
}

package dev.ncalign.lm.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.lm.sampling.SampledSequence;
import dev.ncalign.lm.sampling.Sampler;
import dev.ncalign.lm.sampling.SamplingOptions;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Generation at real size: a Qwen2.5-0.5B-shaped model ({@link QwenShapedModel}) samples P × K
 * completions of N new tokens, each N in a fresh JVM, like one policy server serving that request.
 * Reports load time, the peak resident memory ({@code VmHWM}) during load, the RSS after load
 * (after a full GC), then, with the peak reset, the peak during {@code Generate}; tokens/s of
 * {@code Generate}, and the time to score the samples ({@code ComputeLogprobs}). Writes {@code
 * generation-0.5b.json} and {@code generation-0.5b.md}.
 */
public final class GenerationBenchmark {

  /** Prefix of the result line a measuring child prints. */
  private static final String RESULT = "RESULT ";

  /** Words per prompt (each prompt is these plus BOS). */
  private static final int PROMPT_WORDS = 16;

  /**
   * One-thread decoding bound from DESIGN.md: ≈ 62 GFLOP/s over ≈ 0.99 GFLOP per token (2 × 494 M
   * multiply-adds).
   */
  static final double ONE_THREAD_BOUND_TOKENS_PER_SECOND = 63;

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * @param modelDir where the model is cached (written on first use, ≈ 1 GB)
   * @param outDir where the JSON and Markdown results go
   * @param newTokens one measurement per entry
   * @param prompts P
   * @param k K (samples per prompt)
   * @param threads libtorch intra-op threads of the measuring JVMs
   */
  public record Options(
      Path modelDir, Path outDir, List<Integer> newTokens, int prompts, int k, int threads) {}

  private GenerationBenchmark() {}

  /** Runs every measurement and writes the results; progress lines go to {@code progress}. */
  public static ObjectNode run(Options options, Consumer<String> progress) {
    ObjectNode report = JSON.createObjectNode();
    report.put("date", Instant.now().toString());
    report.put("cores", Runtime.getRuntime().availableProcessors());
    report.put("torch_threads", options.threads());
    report.put("load_average_before", LoadAverage.now());
    report.put("one_thread_bound_tokens_per_second", ONE_THREAD_BOUND_TOKENS_PER_SECOND);
    long writeStart = System.nanoTime();
    boolean cached = Files.exists(options.modelDir().resolve("model.safetensors"));
    progress.accept(
        (cached ? "using" : "writing (once)") + " the 0.5B-shaped model in " + options.modelDir());
    QwenShapedModel.ensure(options.modelDir());
    if (!cached) {
      report.put("model_write_seconds", (System.nanoTime() - writeStart) / 1e9);
    }
    ArrayNode runs = report.putArray("runs");
    for (int newTokens : options.newTokens()) {
      progress.accept(
          String.format(
              "generating %d x %d x %d new tokens in a fresh JVM ...",
              options.prompts(), options.k(), newTokens));
      ObjectNode run = measureInChild(options, newTokens);
      runs.add(run);
      progress.accept(run.toString());
    }
    report.put("load_average_after", LoadAverage.now());
    write(options.outDir(), report);
    return report;
  }

  /** Child mode: {@code measure <modelDir> <prompts> <k> <newTokens>}; prints one result line. */
  public static void main(String[] args) {
    if (args.length != 5 || !"measure".equals(args[0])) {
      throw new IllegalArgumentException("usage: measure <modelDir> <prompts> <k> <newTokens>");
    }
    ObjectNode result =
        measure(
            Path.of(args[1]),
            Integer.parseInt(args[2]),
            Integer.parseInt(args[3]),
            Integer.parseInt(args[4]));
    System.out.println(RESULT + result);
  }

  static ObjectNode measure(Path modelDir, int prompts, int k, int newTokens) {
    ObjectNode result = JSON.createObjectNode();
    result.put("prompts", prompts).put("k", k).put("new_tokens", newTokens);
    result.put("rss_before_load_mib", ProcessMemory.residentMib());
    long start = System.nanoTime();
    try (CausalLm lm = CausalLm.load(modelDir, Device.cpu())) {
      result.put("load_seconds", (System.nanoTime() - start) / 1e9);
      result.put("parameters", lm.parameterCount());
      result.put("peak_rss_during_load_mib", ProcessMemory.peakResidentMib());
      // Loading leaves Java heap garbage (each tensor passes through byte[] and float[]) that G1
      // keeps committed until a full collection; a server pays that once, not per request.
      System.gc();
      result.put("rss_after_load_mib", ProcessMemory.residentMib());
      result.put("peak_reset", ProcessMemory.resetPeak());
      List<String> texts = new ArrayList<>();
      for (int p = 0; p < prompts; p++) {
        List<String> words = new ArrayList<>();
        for (int w = 0; w < PROMPT_WORDS; w++) {
          words.add(QwenShapedModel.word(p * 1000 + w * 37));
        }
        texts.add(String.join(" ", words));
      }
      Sampler sampler = new Sampler();
      // Warm-up: first-call costs (allocator, kernels) are not what a serving process pays.
      sampler.generate(lm, texts, k, SamplingOptions.of(2, 7), () -> false);
      start = System.nanoTime();
      double cpuStart = ProcessMemory.cpuSeconds();
      List<SampledSequence> samples =
          sampler.generate(lm, texts, k, SamplingOptions.of(newTokens, 1), () -> false);
      double seconds = (System.nanoTime() - start) / 1e9;
      double cpuSeconds = ProcessMemory.cpuSeconds() - cpuStart;
      long tokens = samples.stream().mapToLong(s -> s.tokenIds().length).sum();
      // On a shared machine wall time depends on the other jobs; CPU time of this process (one
      // libtorch thread, so mostly one core) is what compares with the one-thread bound.
      result.put("generate_cpu_seconds", cpuSeconds);
      result.put("tokens_per_cpu_second", tokens / cpuSeconds);
      result.put("generate_seconds", seconds);
      result.put("tokens_generated", tokens);
      result.put("tokens_per_second", tokens / seconds);
      result.put("peak_rss_generate_mib", ProcessMemory.peakResidentMib());
      List<int[]> promptIds = new ArrayList<>();
      List<int[]> responseIds = new ArrayList<>();
      for (SampledSequence s : samples) {
        promptIds.add(lm.codec().encodePrompt(texts.get(s.promptIndex())));
        responseIds.add(s.tokenIds());
      }
      start = System.nanoTime();
      try (NDManager scope = lm.manager().newSubManager()) {
        lm.logprobs(scope, promptIds, responseIds, false).sums().toFloatArray();
      }
      result.put("score_seconds", (System.nanoTime() - start) / 1e9);
      result.put("peak_rss_generate_and_score_mib", ProcessMemory.peakResidentMib());
    }
    return result;
  }

  private static ObjectNode measureInChild(Options options, int newTokens) {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> command =
        List.of(
            java,
            "-Dai.djl.offline=true",
            "-Dai.djl.pytorch.num_threads=" + options.threads(),
            "-cp",
            System.getProperty("java.class.path"),
            GenerationBenchmark.class.getName(),
            "measure",
            options.modelDir().toString(),
            Integer.toString(options.prompts()),
            Integer.toString(options.k()),
            Integer.toString(newTokens));
    try {
      Process child =
          new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      String resultLine = null;
      try (BufferedReader out =
          new BufferedReader(
              new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line = out.readLine(); line != null; line = out.readLine()) {
          if (line.startsWith(RESULT)) {
            resultLine = line.substring(RESULT.length());
          }
        }
      }
      int exit = child.waitFor();
      if (exit != 0 || resultLine == null) {
        throw new IllegalStateException("measuring JVM failed (exit " + exit + ")");
      }
      return (ObjectNode) JSON.readTree(resultLine);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static void write(Path outDir, ObjectNode report) {
    StringBuilder md = new StringBuilder();
    md.append("| P × K | new tokens | tokens/s | tokens per CPU-second (bound 63) | Generate s |")
        .append(" load s | peak RSS during load MiB | RSS after load MiB |")
        .append(" peak RSS during Generate MiB | score s |\n")
        .append("|---|---|---|---|---|---|---|---|---|---|\n");
    report
        .get("runs")
        .forEach(
            run ->
                md.append(
                    String.format(
                        Locale.ROOT,
                        "| %d × %d | %d | %.1f | %.1f | %.1f | %.1f | %.0f | %.0f | %.0f | %.1f |%n",
                        run.get("prompts").asInt(),
                        run.get("k").asInt(),
                        run.get("new_tokens").asInt(),
                        run.get("tokens_per_second").asDouble(),
                        run.path("tokens_per_cpu_second").asDouble(Double.NaN),
                        run.get("generate_seconds").asDouble(),
                        run.get("load_seconds").asDouble(),
                        run.get("peak_rss_during_load_mib").asDouble(),
                        run.get("rss_after_load_mib").asDouble(),
                        run.get("peak_rss_generate_mib").asDouble(),
                        run.get("score_seconds").asDouble())));
    md.append(
        String.format(
            Locale.ROOT,
            "%nMachine: %d cores, libtorch threads %d, load average %s before and %s after.%n",
            report.get("cores").asInt(),
            report.get("torch_threads").asInt(),
            report.get("load_average_before").asText(),
            report.get("load_average_after").asText()));
    try {
      Files.createDirectories(outDir);
      JSON.writerWithDefaultPrettyPrinter()
          .writeValue(outDir.resolve("generation-0.5b.json").toFile(), report);
      Files.writeString(outDir.resolve("generation-0.5b.md"), md.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write results to " + outDir, e);
    }
  }
}

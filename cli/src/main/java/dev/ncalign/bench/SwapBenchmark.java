package dev.ncalign.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ncalign.lm.bench.LoadAverage;
import dev.ncalign.lm.bench.SvgLinePlot;
import dev.ncalign.lm.model.TinyModelFactory;
import dev.ncalign.lm.model.TinyModelSpec;
import dev.ncalign.policy.serving.PolicyServer;
import dev.ncalign.policy.serving.PolicyServerOptions;
import dev.ncalign.proto.v1.GenerateRequest;
import dev.ncalign.proto.v1.SamplingParams;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Hot-swap: push-to-live latency against weight bytes. For each model size an in-process policy
 * server is started on a random model of that size; then the same safetensors bytes are pushed as
 * new versions, timed from the client's side (stream opened to response), first with the server
 * idle, then while a fixed number of Generate calls keep it busy. Beside them, the time to copy the
 * same bytes through a loopback socket: no push over loopback can beat it. Writes {@code
 * swap.json}, {@code swap.md} and {@code swap.svg} into the output directory.
 */
public final class SwapBenchmark {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Words of the random models' tokenizer: {@code w0 ... w47}. */
  private static final List<String> VOCABULARY = words(48);

  /** Issue 14's target: a push under load takes at most this many times its idle latency. */
  static final double TARGET_LOAD_RATIO = 2;

  /**
   * @param outDir where {@code swap.json}, {@code swap.md} and {@code swap.svg} go
   * @param modelDir where the random models are written (kept for the next run)
   * @param models one measurement per model shape
   * @param concurrentCalls Generate calls kept in flight during the loaded pushes
   * @param pushes timed pushes per condition (the first model gets one untimed warm-up push before
   *     them); medians are reported
   * @param chunkBytes PushWeights data chunk size
   * @param newTokens max_new_tokens of each Generate call of the load
   */
  public record Options(
      Path outDir,
      Path modelDir,
      List<TinyModelSpec> models,
      int concurrentCalls,
      int pushes,
      int chunkBytes,
      int newTokens) {

    public Options {
      if (models.isEmpty() || concurrentCalls < 1 || pushes < 1 || chunkBytes < 1) {
        throw new IllegalArgumentException("need ≥ 1 model, concurrent call, push and chunk byte");
      }
    }

    /**
     * Issue 14's setting: about 0.5, 8, 64 and 256 MB of float32 weights, 200 concurrent Generate
     * calls of 16 new tokens, 3 pushes per condition, 1 MiB chunks (the orchestrator's).
     */
    public static Options defaults(Path outDir, Path modelDir) {
      return new Options(outDir, modelDir, defaultModels(), 200, 3, 1 << 20, 16);
    }
  }

  private SwapBenchmark() {}

  /**
   * Llama shapes (head size 16 or 64, 128 positions) whose float32 weights are about 0.5, 8, 64 and
   * 256 MB; the vocabulary is tiny, so the layers hold nearly all the bytes.
   */
  public static List<TinyModelSpec> defaultModels() {
    return List.of(
        new TinyModelSpec(64, 2, 4, 4, 256, 128),
        new TinyModelSpec(256, 2, 4, 4, 1024, 128),
        new TinyModelSpec(512, 4, 8, 8, 2048, 128),
        new TinyModelSpec(1024, 4, 16, 16, 4096, 128));
  }

  /**
   * {@code SwapBenchmark OUT_DIR MODEL_DIR [CONCURRENT_CALLS [MB,...]]}: the default run, or fewer
   * concurrent calls, or only the default models of about those sizes (0.5, 8, 64, 256).
   */
  public static void main(String[] args) {
    if (args.length < 2 || args.length > 4) {
      throw new IllegalArgumentException(
          "usage: SwapBenchmark OUT_DIR MODEL_DIR [CONCURRENT_CALLS [MB,...]]");
    }
    Options defaults = Options.defaults(Path.of(args[0]), Path.of(args[1]));
    List<TinyModelSpec> models = defaults.models();
    if (args.length == 4) {
      List<String> sizes = List.of("0.5", "8", "64", "256");
      models = new ArrayList<>();
      for (String mb : args[3].split(",")) {
        int index = sizes.indexOf(mb);
        if (index < 0) {
          throw new IllegalArgumentException("MB must be among " + sizes + ", got " + mb);
        }
        models.add(defaults.models().get(index));
      }
    }
    run(
        new Options(
            defaults.outDir(),
            defaults.modelDir(),
            models,
            args.length >= 3 ? Integer.parseInt(args[2]) : defaults.concurrentCalls(),
            defaults.pushes(),
            defaults.chunkBytes(),
            defaults.newTokens()),
        System.out::println);
  }

  /** Measures every model and writes the results; progress lines go to {@code progress}. */
  public static ObjectNode run(Options options, Consumer<String> progress) {
    ObjectNode report = JSON.createObjectNode();
    report.put("date", Instant.now().toString());
    report.put("cores", Runtime.getRuntime().availableProcessors());
    report.put("load_average_before", LoadAverage.now());
    report.put(
        "torch_threads", System.getProperty("ai.djl.pytorch.num_threads", "libtorch default"));
    report.put("concurrent_generate_calls", options.concurrentCalls());
    report.put("pushes_per_condition", options.pushes());
    report.put("chunk_bytes", options.chunkBytes());
    report.put("generate_new_tokens", options.newTokens());
    report.put("target_load_ratio", TARGET_LOAD_RATIO);
    ArrayNode runs = report.putArray("runs");
    for (TinyModelSpec spec : options.models()) {
      Path dir = ensureModel(options.modelDir(), spec);
      ObjectNode run = measure(dir, options, runs.isEmpty(), progress);
      run.put("model", shapeName(spec));
      runs.add(run);
      progress.accept(run.toString());
    }
    report.put("load_average_after", LoadAverage.now());
    write(options.outDir(), report);
    return report;
  }

  private static ObjectNode measure(
      Path modelDir, Options options, boolean warmUp, Consumer<String> progress) {
    byte[] weights = readWeights(modelDir);
    ObjectNode run = JSON.createObjectNode();
    run.put("weight_bytes", weights.length);
    double copy = SwapLoopbackCopy.seconds(weights);
    run.put("loopback_copy_seconds", copy);
    run.put("loopback_copy_mb_per_second", weights.length / 1e6 / copy);
    try (PolicyServer server = PolicyServer.start(PolicyServerOptions.defaults(modelDir));
        Channel channel = new Channel(server.port())) {
      SwapPushClient client = new SwapPushClient(channel.channel, weights, options.chunkBytes());
      long version = 1;
      if (warmUp) {
        // The first push of a JVM pays for class loading and JIT, not for the bytes.
        client.push(++version);
      }
      List<SwapPushClient.Result> idle = new ArrayList<>();
      for (int i = 0; i < options.pushes(); i++) {
        idle.add(client.push(++version));
      }
      progress.accept(
          String.format(
              Locale.ROOT,
              "%s: %.1f MB, loopback %.3f s, idle push %.3f s",
              modelDir.getFileName(),
              weights.length / 1e6,
              copy,
              median(idle, SwapPushClient.Result::clientSeconds)));
      put(run, "idle", idle);
      List<SwapPushClient.Result> loaded = new ArrayList<>();
      long generatedBefore;
      long generatedDuring;
      List<String> failures;
      long seenVersion;
      try (SwapLoad load =
          new SwapLoad(channel.channel, options.concurrentCalls(), request(options))) {
        // Let every caller's first call reach the server before timing.
        sleep(2000);
        generatedBefore = load.completed();
        for (int i = 0; i < options.pushes(); i++) {
          loaded.add(client.push(++version));
        }
        generatedDuring = load.completed() - generatedBefore;
        // Calls started after the last swap report its version.
        long target = version;
        long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (load.highestVersion() < target && System.nanoTime() < waitUntil) {
          sleep(50);
        }
        seenVersion = load.highestVersion();
        failures = load.failures();
      }
      put(run, "under_load", loaded);
      double ratio =
          median(loaded, SwapPushClient.Result::clientSeconds)
              / median(idle, SwapPushClient.Result::clientSeconds);
      run.put("load_to_idle_ratio", ratio);
      run.put("meets_target", ratio <= TARGET_LOAD_RATIO);
      run.put("generate_calls_completed_during_pushes", generatedDuring);
      run.put("generate_calls_failed", failures.size());
      failures.stream().limit(3).forEach(run.withArray("generate_failure_examples")::add);
      run.put("last_pushed_version", version);
      run.put("newest_version_seen_by_generate", seenVersion);
    }
    return run;
  }

  private static GenerateRequest request(Options options) {
    return GenerateRequest.newBuilder()
        .addPrompts("w1 w2 w3 w4")
        .setNumSamples(1)
        .setSampling(
            SamplingParams.newBuilder()
                .setMaxNewTokens(options.newTokens())
                .setTemperature(1f)
                .setSeed(7))
        .build();
  }

  /** Per-push samples and the medians of the client's time and the server's load share. */
  private static void put(ObjectNode run, String condition, List<SwapPushClient.Result> results) {
    ObjectNode node = run.putObject(condition);
    node.put("push_seconds_median", median(results, SwapPushClient.Result::clientSeconds));
    node.put(
        "server_load_seconds_median", median(results, SwapPushClient.Result::serverLoadSeconds));
    ArrayNode samples = node.putArray("push_seconds");
    results.forEach(r -> samples.add(r.clientSeconds()));
    ArrayNode loads = node.putArray("server_load_seconds");
    results.forEach(r -> loads.add(r.serverLoadSeconds()));
  }

  private static double median(
      List<SwapPushClient.Result> results,
      java.util.function.ToDoubleFunction<SwapPushClient.Result> value) {
    double[] sorted = results.stream().mapToDouble(value).sorted().toArray();
    int mid = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }

  /** {@code modelDir/<shape>}, written once (to a staging directory first, then moved). */
  private static Path ensureModel(Path modelDir, TinyModelSpec spec) {
    Path dir = modelDir.resolve(shapeName(spec));
    if (Files.exists(dir.resolve("model.safetensors"))) {
      return dir;
    }
    Path staging = modelDir.resolve(shapeName(spec) + ".partial");
    TinyModelFactory.write(staging, VOCABULARY, spec, spec.hidden());
    try {
      Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot move " + staging + " to " + dir, e);
    }
    return dir;
  }

  static String shapeName(TinyModelSpec spec) {
    return String.format(
        Locale.ROOT, "llama-h%d-l%d-i%d", spec.hidden(), spec.layers(), spec.intermediate());
  }

  private static byte[] readWeights(Path modelDir) {
    try {
      return Files.readAllBytes(modelDir.resolve("model.safetensors"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void write(Path outDir, ObjectNode report) {
    try {
      Files.createDirectories(outDir);
      JSON.writerWithDefaultPrettyPrinter()
          .writeValue(outDir.resolve("swap.json").toFile(), report);
      Files.writeString(outDir.resolve("swap.md"), markdown(report));
      Files.writeString(outDir.resolve("swap.svg"), plot(report));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write results to " + outDir, e);
    }
  }

  static String markdown(ObjectNode report) {
    StringBuilder md = new StringBuilder();
    md.append(
        String.format(
            Locale.ROOT,
            "Hot-swap: push-to-live latency (client side, median of %d), idle and under %d"
                + " concurrent Generate calls; %d cores, load average before %s.%n%n",
            report.get("pushes_per_condition").asInt(),
            report.get("concurrent_generate_calls").asInt(),
            report.get("cores").asInt(),
            report.get("load_average_before").asText()));
    md.append(
        "| model | weights MB | loopback copy s | push idle s (server load s) | push under load s"
            + " (server load s) | under load / idle | Generate calls done during pushes |\n");
    md.append("|---|---:|---:|---:|---:|---:|---:|\n");
    for (var run : report.get("runs")) {
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | %.1f | %.3f | %.3f (%.3f) | %.3f (%.3f) | %.2f%s | %d |%n",
              run.get("model").asText(),
              run.get("weight_bytes").asLong() / 1e6,
              run.get("loopback_copy_seconds").asDouble(),
              run.at("/idle/push_seconds_median").asDouble(),
              run.at("/idle/server_load_seconds_median").asDouble(),
              run.at("/under_load/push_seconds_median").asDouble(),
              run.at("/under_load/server_load_seconds_median").asDouble(),
              run.get("load_to_idle_ratio").asDouble(),
              run.get("meets_target").asBoolean() ? "" : " (over target)",
              run.get("generate_calls_completed_during_pushes").asLong()));
    }
    return md.toString();
  }

  static String plot(ObjectNode report) {
    List<double[]> copy = new ArrayList<>();
    List<double[]> idle = new ArrayList<>();
    List<double[]> loaded = new ArrayList<>();
    for (var run : report.get("runs")) {
      double mb = run.get("weight_bytes").asLong() / 1e6;
      copy.add(new double[] {mb, run.get("loopback_copy_seconds").asDouble()});
      idle.add(new double[] {mb, run.at("/idle/push_seconds_median").asDouble()});
      loaded.add(new double[] {mb, run.at("/under_load/push_seconds_median").asDouble()});
    }
    return new SvgLinePlot("PushWeights: push-to-live latency", "weights (MB)", "seconds")
        .series(
            "under " + report.get("concurrent_generate_calls").asInt() + " Generate calls",
            "#d62728",
            loaded)
        .series("idle", "#1f77b4", idle)
        .series("loopback copy", "#7f7f7f", copy)
        .render();
  }

  private static List<String> words(int n) {
    String[] words = new String[n];
    Arrays.setAll(words, i -> "w" + i);
    return List.of(words);
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** A plaintext loopback channel that takes the server's largest responses. */
  private static final class Channel implements AutoCloseable {
    final ManagedChannel channel;

    Channel(int port) {
      channel =
          NettyChannelBuilder.forAddress("127.0.0.1", port)
              .usePlaintext()
              .maxInboundMessageSize(64 << 20)
              .build();
    }

    @Override
    public void close() {
      channel.shutdownNow();
      try {
        channel.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}

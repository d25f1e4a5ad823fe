package dev.ncalign.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ncalign.demo.EmbeddedRewardModelBuilder;
import dev.ncalign.demo.LabeledReviews;
import dev.ncalign.lm.bench.LoadAverage;
import dev.ncalign.proto.v1.ScoreItem;
import dev.ncalign.proto.v1.ScoreRequest;
import dev.ncalign.reward.serving.RewardLimits;
import dev.ncalign.reward.serving.RewardServer;
import dev.ncalign.reward.serving.RewardServerOptions;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Dynamic batching against one model run per item, on the reward server as it ships.
 *
 * <p>The arms are the same in-process {@link RewardServer} (its gRPC shell, validation, tokenizing
 * on the gRPC thread, the {@code DynamicBatcher}, ONNX Runtime with default session options),
 * started once per arm on the same model with different batching flags:
 *
 * <ul>
 *   <li><b>one-by-one</b>: {@code --max-batch-size 1 --max-wait-ms 0}: every item is its own ONNX
 *       Runtime run, one after another;
 *   <li><b>batched</b>: {@code --max-batch-size 32 --max-wait-ms 5} (the default window until these
 *       measurements): items waiting together are merged into runs of up to 32, and a lone item
 *       waits up to 5 ms for company;
 *   <li><b>batched, no wait</b>: the server's defaults ({@code --max-batch-size 32 --max-wait-ms
 *       0}): whatever queued up while the model was busy runs as one batch, nothing waits for
 *       company.
 * </ul>
 *
 * <p>The load is N concurrent callers over plaintext gRPC on loopback, each with one single-item
 * {@code Score} call in flight and sending the next as soon as the previous answers ({@link
 * RewardLoad}), from the same JVM. For each model, caller count and repetition the arms run back to
 * back (their order reversed every other repetition): each waits for every caller's first answer,
 * warms up, then counts the items answered in a fixed window; the figure per arm is the median over
 * repetitions, and a ratio is a batched arm ÷ one-by-one of those medians. The server's own metrics
 * give the batches actually formed and the share of the window the model was running; the JVM's CPU
 * time gives items per CPU-second, which other jobs on the machine disturb less than items/s.
 *
 * <p>Two models: the embedded demo reward model (a convolution over 16-wide embeddings, a few
 * thousand parameters: per-run overhead dominates) and a random decoder-style model ({@link
 * RewardDecoderModel}, attention + MLP blocks: matrix products dominate). Writes {@code
 * reward-batching.json}, {@code reward-batching.md} and SVG plots into the output directory.
 */
public final class RewardBatchingBenchmark {

  /**
   * Seed of the embedded model's fit (its cost does not depend on it), the decoder and the texts.
   */
  private static final long SEED = 7;

  /** Directory of the embedded model under {@link Options#modelsDir()}. */
  static final String EMBEDDED_DIR = "embedded-reward-model";

  /** Directory of the decoder-style model under {@link Options#modelsDir()}. */
  static final String DECODER_DIR = "decoder-reward-model";

  /** Distinct single-item requests the callers cycle through. */
  private static final int DISTINCT_REQUESTS = 512;

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The batching flags of an arm (see the class comment). */
  /** The batched arm's window: the server's default before it became 0. */
  static final int WINDOW_MS = 5;

  enum Arm {
    ONE_BY_ONE("one_by_one", 1, 0),
    BATCHED("batched", RewardLimits.DEFAULT_MAX_BATCH_SIZE, WINDOW_MS),
    BATCHED_NO_WAIT(
        "batched_no_wait", RewardLimits.DEFAULT_MAX_BATCH_SIZE, RewardLimits.DEFAULT_MAX_WAIT_MS);

    final String key;
    final int maxBatchSize;
    final int maxWaitMs;

    Arm(String key, int maxBatchSize, int maxWaitMs) {
      this.key = key;
      this.maxBatchSize = maxBatchSize;
      this.maxWaitMs = maxWaitMs;
    }
  }

  /**
   * What to measure.
   *
   * @param outDir where the results go
   * @param modelsDir where the two model directories are built (kept between runs)
   * @param callers concurrent caller counts, one point each
   * @param warmupSeconds load before each measured window
   * @param measureSeconds the measured window of each point
   * @param repetitions how many times every point runs per arm (median reported)
   * @param decoder whether to measure the decoder-style model too
   */
  public record Options(
      Path outDir,
      Path modelsDir,
      List<Integer> callers,
      double warmupSeconds,
      double measureSeconds,
      int repetitions,
      boolean decoder) {

    public Options {
      callers = List.copyOf(callers);
      if (callers.isEmpty() || callers.stream().anyMatch(c -> c < 1)) {
        throw new IllegalArgumentException("callers must be positive counts, got " + callers);
      }
      if (warmupSeconds < 0 || measureSeconds <= 0) {
        throw new IllegalArgumentException("measure seconds must be > 0 and warm-up >= 0");
      }
      if (repetitions < 1) {
        throw new IllegalArgumentException("repetitions must be at least 1, got " + repetitions);
      }
    }

    /**
     * The benchmark: 1, 8 and 64 callers, 0.5 s warm-up, 2 s windows, 3 repetitions, both
     * models (about 2 minutes, plus about half a minute to fit the embedded model the first time).
     */
    public static Options defaults(Path outDir, Path modelsDir) {
      return new Options(outDir, modelsDir, List.of(1, 8, 64), 0.5, 2, 3, true);
    }
  }

  private RewardBatchingBenchmark() {}

  /**
   * Runs the default benchmark: {@code [outDir [modelsDir]]}, by default {@code docs/bench} and
   * {@code .ncalign/bench/reward}.
   */
  public static void main(String[] args) {
    if (args.length > 2) {
      throw new IllegalArgumentException("usage: [outDir [modelsDir]]");
    }
    if (System.getProperty("ai.djl.offline") == null) {
      // The embedded model is fitted with DJL: libtorch comes from the jar, never a download.
      System.setProperty("ai.djl.offline", "true");
    }
    Path out = Path.of(args.length > 0 ? args[0] : "docs/bench");
    Path models = Path.of(args.length > 1 ? args[1] : ".ncalign/bench/reward");
    run(Options.defaults(out, models), System.out::println);
    System.out.println("results in " + out);
  }

  /**
   * Runs every point, writes the results and returns them; progress lines go to {@code progress}.
   */
  public static ObjectNode run(Options options, Consumer<String> progress) {
    ObjectNode report = JSON.createObjectNode();
    report.put("date", Instant.now().toString());
    report.put("cores", Runtime.getRuntime().availableProcessors());
    report.put("load_average_before", LoadAverage.now());
    report.put("warmup_seconds", options.warmupSeconds());
    report.put("measure_seconds", options.measureSeconds());
    report.put("repetitions", options.repetitions());
    ObjectNode arms = report.putObject("arms");
    for (Arm arm : Arm.values()) {
      arms.putObject(arm.key)
          .put("max_batch_size", arm.maxBatchSize)
          .put("max_wait_ms", arm.maxWaitMs);
    }
    report.put(
        "load",
        "N callers in the benchmark JVM, each with one single-item Score call in flight over"
            + " plaintext gRPC on loopback; the servers run in the same JVM");
    List<ScoreRequest> requests = requests();
    ArrayNode models = report.putArray("models");
    try {
      progress.accept("embedded reward model in " + options.modelsDir().resolve(EMBEDDED_DIR));
      Path embedded =
          EmbeddedRewardModelBuilder.build(options.modelsDir().resolve(EMBEDDED_DIR), SEED);
      models.add(
          measureModel(
              "embedded",
              "the demo's embedded reward model (embeddings 16, conv 48, MLP 32)",
              embedded,
              requests,
              options,
              progress));
      if (options.decoder()) {
        RewardDecoderModel.Spec spec = RewardDecoderModel.Spec.DEFAULT;
        Path decoder =
            RewardDecoderModel.write(
                options.modelsDir().resolve(DECODER_DIR),
                embedded.resolve("tokenizer.json"),
                spec,
                SEED);
        models.add(
            measureModel(
                "decoder",
                String.format(
                    "random decoder-style model: width %d, %d heads, MLP %d, %d layers,"
                        + " %.1f M block parameters",
                    spec.dim(),
                    spec.heads(),
                    spec.ffn(),
                    spec.layers(),
                    spec.blockParameters() / 1e6),
                decoder,
                requests,
                options,
                progress));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare the models in " + options.modelsDir(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
    report.put("load_average_after", LoadAverage.now());
    RewardBatchingReport.write(options.outDir(), report);
    return report;
  }

  /** One single-item request per review example: prompt and response as the demo samples them. */
  private static List<ScoreRequest> requests() {
    List<ScoreRequest> requests = new ArrayList<>();
    for (LabeledReviews.Example example :
        LabeledReviews.sample(new Random(SEED), DISTINCT_REQUESTS)) {
      requests.add(
          ScoreRequest.newBuilder()
              .addItems(
                  ScoreItem.newBuilder()
                      .setPrompt(example.prompt())
                      .setResponse(example.response()))
              .build());
    }
    return requests;
  }

  private static ObjectNode measureModel(
      String name,
      String description,
      Path dir,
      List<ScoreRequest> requests,
      Options options,
      Consumer<String> progress)
      throws IOException, InterruptedException {
    ObjectNode model = JSON.createObjectNode();
    model.put("name", name).put("description", description).put("dir", dir.toString());
    ArrayNode points = model.putArray("points");
    List<ArmUnderTest> arms = new ArrayList<>();
    try {
      for (Arm arm : Arm.values()) {
        arms.add(ArmUnderTest.start(arm, dir, requests));
      }
      List<ObjectNode> byCallers = new ArrayList<>();
      for (int callers : options.callers()) {
        ObjectNode point = points.addObject().put("callers", callers);
        for (Arm arm : Arm.values()) {
          point.putObject(arm.key).putArray("repetitions");
        }
        byCallers.add(point);
      }
      for (int rep = 0; rep < options.repetitions(); rep++) {
        for (int i = 0; i < options.callers().size(); i++) {
          int callers = options.callers().get(i);
          // Alternate which arm goes first so a drift in machine load does not favour one.
          for (int a = 0; a < arms.size(); a++) {
            ArmUnderTest arm = arms.get(rep % 2 == 0 ? a : arms.size() - 1 - a);
            ObjectNode sample = arm.measure(callers, options);
            ((ArrayNode) byCallers.get(i).get(arm.arm.key).get("repetitions")).add(sample);
            progress.accept(
                String.format(
                    "%s, %d callers, %s, rep %d: %.0f items/s, mean batch %.1f",
                    name,
                    callers,
                    arm.arm.key,
                    rep + 1,
                    sample.get("items_per_second").asDouble(),
                    sample.get("mean_batch").asDouble()));
          }
        }
      }
      for (ObjectNode point : byCallers) {
        for (Arm arm : Arm.values()) {
          summarize((ObjectNode) point.get(arm.key));
        }
        double oneByOne = point.get(Arm.ONE_BY_ONE.key).get("items_per_second").asDouble();
        point.put(
            "ratio", point.get(Arm.BATCHED.key).get("items_per_second").asDouble() / oneByOne);
        point.put(
            "ratio_best",
            point.get(Arm.BATCHED.key).get("items_per_second_best").asDouble()
                / point.get(Arm.ONE_BY_ONE.key).get("items_per_second_best").asDouble());
        point.put(
            "ratio_no_wait",
            point.get(Arm.BATCHED_NO_WAIT.key).get("items_per_second").asDouble() / oneByOne);
        // Amdahl: if batching made the model free, one-by-one would speed up by at most
        // 1 / (1 - the share of time its model was running); the rest is RPC and tokenizing.
        double busy = point.get(Arm.ONE_BY_ONE.key).get("model_busy").asDouble();
        if (busy < 0.99) {
          point.put("model_free_bound", 1 / (1 - busy));
        } else {
          point.putNull("model_free_bound");
        }
      }
    } finally {
      arms.forEach(ArmUnderTest::close);
    }
    return model;
  }

  /** Medians over repetitions, each field on its own. */
  private static void summarize(ObjectNode arm) {
    ArrayNode reps = (ArrayNode) arm.get("repetitions");
    for (String field :
        List.of(
            "items_per_second", "items_per_cpu_second", "mean_batch", "model_busy", "cpu_cores")) {
      double[] values = new double[reps.size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = reps.get(i).get(field).asDouble();
      }
      arm.put(field, median(values));
      if (field.equals("items_per_second")) {
        // The least disturbed repetition: on a shared machine other jobs only ever slow a window.
        arm.put("items_per_second_best", Arrays.stream(values).max().orElseThrow());
      }
    }
  }

  static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int mid = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }

  /** One arm's server, its channel and its metrics endpoint. */
  private static final class ArmUnderTest implements AutoCloseable {
    private final Arm arm;
    private final RewardServer server;
    private final ManagedChannel channel;
    private final RewardServerMeters meters;
    private final List<ScoreRequest> requests;

    private ArmUnderTest(
        Arm arm, RewardServer server, ManagedChannel channel, List<ScoreRequest> requests) {
      this.arm = arm;
      this.server = server;
      this.channel = channel;
      this.meters = new RewardServerMeters(server.metricsPort());
      this.requests = requests;
    }

    static ArmUnderTest start(Arm arm, Path dir, List<ScoreRequest> requests) throws IOException {
      RewardServer server =
          RewardServer.start(
              RewardServerOptions.defaults(dir)
                  .withBatching(arm.maxBatchSize, arm.maxWaitMs)
                  .withMetricsPort(0));
      // Responses are handled on the transport's threads: a caller's next call is sent from its
      // previous call's callback, with no hop to another executor.
      ManagedChannel channel =
          ManagedChannelBuilder.forAddress("127.0.0.1", server.port())
              .usePlaintext()
              .directExecutor()
              .build();
      return new ArmUnderTest(arm, server, channel, requests);
    }

    /** Warm-up, then a measured window of {@code callers} callers. */
    ObjectNode measure(int callers, Options options) throws InterruptedException {
      RewardLoad load = new RewardLoad(channel, requests);
      load.start(callers);
      try {
        load.awaitAnswered(callers);
        sleep(options.warmupSeconds());
        long calls0 = load.answered();
        RewardServerMeters.Reading before = meters.read();
        double cpu0 = processCpuSeconds();
        long start = System.nanoTime();
        sleep(options.measureSeconds());
        long calls = load.answered() - calls0;
        double seconds = (System.nanoTime() - start) / 1e9;
        double cpu = processCpuSeconds() - cpu0;
        RewardServerMeters.Reading runs = meters.read().since(before);
        return JSON.createObjectNode()
            .put("items_per_second", calls * load.itemsPerCall() / seconds)
            // Less sensitive than items/s to other jobs on the machine taking CPU time.
            .put("items_per_cpu_second", calls * load.itemsPerCall() / cpu)
            .put("seconds", seconds)
            .put("items", calls * load.itemsPerCall())
            .put("model_runs", runs.runs())
            .put("mean_batch", runs.meanBatch())
            // Share of the window the model was running: near 1 means the model is the bottleneck.
            .put("model_busy", runs.runSeconds() / seconds)
            // CPU of this whole JVM (servers and callers) in cores: 2 means both cores are used.
            .put("cpu_cores", cpu / seconds);
      } finally {
        load.stop();
      }
    }

    @Override
    public void close() {
      channel.shutdownNow();
      try {
        channel.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      server.close();
    }
  }

  private static void sleep(double seconds) throws InterruptedException {
    Thread.sleep(Math.round(seconds * 1000));
  }

  private static double processCpuSeconds() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
            .getProcessCpuTime()
        / 1e9;
  }
}

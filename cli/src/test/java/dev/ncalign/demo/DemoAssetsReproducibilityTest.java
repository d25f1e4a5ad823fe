package dev.ncalign.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import dev.ncalign.lm.io.Sha256;
import dev.ncalign.lm.testing.MachineLoad;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo's models are a cache that every later demo run trusts, so one seed must build one set of
 * bytes. Each build runs in a JVM of its own, as {@code ncalign assets} does: what differs between
 * two JVMs (the salt of {@code Map.copyOf} iteration order, identity hash codes, memory addresses,
 * the libtorch thread count a JVM was started with) must not reach the files. The two builds run at
 * once, each beside a thread that burns CPU and one that forces garbage collections.
 */
class DemoAssetsReproducibilityTest {

  /**
   * The full build's code on less data (a reward fit of 20 batches, a dozen SFT steps), so the test
   * takes about a minute on a busy two-core machine instead of several.
   */
  static final DemoAssets.Budget SMALL = new DemoAssets.Budget(640, 2, 480, 1);

  private static final List<String> EXPECTED_FILES =
      List.of(
          "prompts.jsonl",
          "reward/model.onnx",
          "reward/tokenizer.json",
          "reward/reward_config.json",
          "policy-base/config.json",
          "policy-base/model.safetensors",
          "policy-base/tokenizer.json");

  /** What the child prints, followed by its libtorch intra-op thread count. */
  private static final String THREADS = "libtorch threads: ";

  @TempDir Path tmp;

  @Test
  void twoJvmsBuildByteIdenticalAssetsFromOneSeedWhateverTheirThreadCount() throws Exception {
    Path first = tmp.resolve("first");
    Path second = tmp.resolve("second");
    Process one = start(first, 1);
    Process two = start(second, 2);
    finish(one, first);
    finish(two, second);
    assertTrue(Files.readString(log(first)).contains(THREADS + 1), Files.readString(log(first)));
    assertTrue(Files.readString(log(second)).contains(THREADS + 2), Files.readString(log(second)));
    Map<String, String> firstFiles = digests(first);
    assertTrue(
        firstFiles.keySet().containsAll(EXPECTED_FILES), "files built: " + firstFiles.keySet());
    assertEquals(firstFiles, digests(second));
  }

  /**
   * Starts {@link Build} in a child JVM on this class path with {@code threads} libtorch threads.
   */
  private static Process start(Path root, int threads) throws IOException {
    return new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Dai.djl.offline=true",
            "-Dai.djl.pytorch.num_threads=" + threads,
            "-Xss4m",
            "-cp",
            System.getProperty("java.class.path"),
            Build.class.getName(),
            root.toString())
        .redirectErrorStream(true)
        .redirectOutput(log(root).toFile())
        .start();
  }

  private static void finish(Process process, Path root) throws Exception {
    try {
      assertTrue(process.waitFor(5, TimeUnit.MINUTES), "build into " + root + " timed out");
      assertEquals(0, process.exitValue(), Files.readString(log(root)));
    } finally {
      process.destroyForcibly();
    }
  }

  private static Path log(Path root) {
    return root.resolveSibling(root.getFileName() + ".log");
  }

  /** The sha256 of every file under {@code root}, by relative path. */
  private static Map<String, String> digests(Path root) throws IOException {
    try (Stream<Path> files = Files.walk(root)) {
      return files
          .filter(Files::isRegularFile)
          .collect(
              Collectors.toMap(
                  file -> root.relativize(file).toString().replace('\\', '/'),
                  Sha256::hex,
                  (a, b) -> a,
                  TreeMap::new));
    }
  }

  /** The child JVM: builds the {@link #SMALL} assets into {@code args[0]} on a loaded machine. */
  public static final class Build {
    private Build() {}

    public static void main(String[] args) throws Exception {
      Engine.getEngine("PyTorch");
      System.out.println(THREADS + JniUtils.getNumThreads());
      try (MachineLoad load = MachineLoad.start(1)) {
        DemoAssets.ensure(Path.of(args[0]), SMALL, System.out::println);
      }
    }
  }
}

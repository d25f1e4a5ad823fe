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
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo's models are a cache that every later demo run trusts, so one seed must build one set of
 * bytes: on a busy machine, while the garbage collector runs, and whatever libtorch thread count
 * the JVM was started with ({@code NCALIGN_TORCH_THREADS}).
 */
class DemoAssetsReproducibilityTest {

  /**
   * The full build's code path on less data: a reward fit of 20 batches and a dozen SFT steps, so
   * the test takes seconds; one step already shows a thread-count or garbage-collector difference.
   */
  private static final DemoAssets.Budget SMALL = new DemoAssets.Budget(640, 2, 480, 1);

  @TempDir Path tmp;

  @Test
  void theSameSeedBuildsByteIdenticalAssetsOnABusyMachineWithAnyThreadCount() throws Exception {
    Map<String, String> first;
    Map<String, String> second;
    try (MachineLoad load = MachineLoad.start(1)) {
      first = build(tmp.resolve("first"), 1);
      second = build(tmp.resolve("second"), 2);
    }
    assertTrue(
        first
            .keySet()
            .containsAll(
                List.of(
                    "prompts.jsonl",
                    "reward/model.onnx",
                    "reward/tokenizer.json",
                    "reward/reward_config.json",
                    "policy-base/config.json",
                    "policy-base/model.safetensors",
                    "policy-base/tokenizer.json")),
        "files built: " + first.keySet());
    assertEquals(first, second);
  }

  /**
   * Builds the assets into {@code root} with libtorch's intra-op thread count at {@code threads},
   * as a JVM started with that count would; returns the sha256 of every file by relative path.
   */
  private static Map<String, String> build(Path root, int threads) throws IOException {
    Engine.getEngine("PyTorch");
    int before = JniUtils.getNumThreads();
    JniUtils.setNumThreads(threads);
    try {
      assertEquals(threads, JniUtils.getNumThreads());
      DemoAssets.ensure(root, SMALL, message -> {});
    } finally {
      JniUtils.setNumThreads(before);
    }
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
}

package dev.ncalign.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ncalign.orchestrator.config.ConfigLoader;
import dev.ncalign.orchestrator.loop.AlignmentRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Same config and seed, same run: the same small online run three times, on a machine loaded by
 * threads that burn CPU and force garbage collections, writes byte-identical {@code samples.jsonl}
 * and {@code metrics.jsonl} apart from the wall-clock timing fields.
 */
class ReproducibleRunTest {
  /** The only keys of a metrics row that may differ between identical runs: wall-clock timings. */
  private static final List<String> TIMING_KEYS =
      List.of(
          "generate_seconds",
          "score_seconds",
          "learn_seconds",
          "push_seconds",
          "tokens_per_second");

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  @Test
  void sameConfigAndSeedWriteIdenticalFilesOnALoadedMachine() throws Exception {
    List<Path> dirs = List.of(tmp.resolve("run-0"), tmp.resolve("run-1"), tmp.resolve("run-2"));
    // Models built before the load starts: only the runs need to share the machine.
    List<String> configs =
        dirs.stream().map(dir -> TestAssets.config(dir, "online", 3, "")).toList();
    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> load = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      Thread burner = new Thread(() -> burn(stop), "cpu-burner-" + i);
      burner.setDaemon(true);
      burner.start();
      load.add(burner);
    }
    try {
      for (String config : configs) {
        try (AlignmentRun run =
            AlignmentRun.open(ConfigLoader.parse(config, List.of()), false, List.of())) {
          run.run();
        }
      }
    } finally {
      stop.set(true);
      for (Thread t : load) {
        t.join();
      }
    }
    for (Path dir : dirs.subList(1, dirs.size())) {
      assertEquals(
          Files.readString(dirs.get(0).resolve("samples.jsonl")),
          Files.readString(dir.resolve("samples.jsonl")),
          "samples.jsonl of " + dir);
      assertEquals(
          withoutTimings(dirs.get(0).resolve("metrics.jsonl")),
          withoutTimings(dir.resolve("metrics.jsonl")),
          "metrics.jsonl of " + dir + " without timing keys");
    }
  }

  /** Spins and allocates, forcing a collection now and then (frees unreachable direct buffers). */
  private static void burn(AtomicBoolean stop) {
    long sink = 0;
    for (int n = 0; !stop.get(); n++) {
      sink += new byte[1 << 16].length;
      if (n % 20_000 == 0) {
        System.gc();
      }
    }
    if (sink == 42) {
      System.out.println(sink);
    }
  }

  private static List<String> withoutTimings(Path metrics) throws IOException {
    List<String> rows = new ArrayList<>();
    for (String line : Files.readAllLines(metrics)) {
      ObjectNode row = (ObjectNode) JSON.readTree(line);
      row.remove(TIMING_KEYS);
      rows.add(row.toString());
    }
    return rows;
  }
}

package dev.ncalign.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run that started its own servers leaves none behind, whether it is stopped with SIGTERM (its
 * shutdown hook stops them) or killed with SIGKILL (each server watches its parent and exits).
 */
class OrphanedServersTest {
  @TempDir Path tmp;

  @Test
  void sigtermStopsTheServersARunStarted() throws Exception {
    stopRunAndExpectNoServerLeft("terminated", false);
  }

  @Test
  void serversExitOnTheirOwnWhenTheirRunIsKilled() throws Exception {
    stopRunAndExpectNoServerLeft("killed", true);
  }

  private void stopRunAndExpectNoServerLeft(String name, boolean kill) throws Exception {
    Path dir = tmp.resolve(name);
    Path config = tmp.resolve(name + ".yaml");
    Files.writeString(config, TestAssets.config(dir, "online", 500, ""));
    Process run =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.offline=true",
                "-Dai.djl.pytorch.num_threads=1",
                "-Xss4m",
                "-cp",
                System.getProperty("java.class.path"),
                "dev.ncalign.cli.Ncalign",
                "train",
                "--config",
                config.toString())
            .redirectErrorStream(true)
            .redirectOutput(tmp.resolve(name + ".log").toFile())
            .start();
    List<ProcessHandle> servers = List.of();
    try {
      // Both servers up and at least one round recorded: the run is in the middle of its work.
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
      while (!(Files.exists(dir.resolve("metrics.jsonl")) && run.descendants().count() >= 2)) {
        assertTrue(
            run.isAlive(), "the run died early: " + Files.readString(tmp.resolve(name + ".log")));
        assertTrue(System.nanoTime() < deadline, "the run did not get going in 4 minutes");
        Thread.sleep(200);
      }
      servers = run.descendants().toList();
      assertEquals(2, servers.size(), "a policy and a reward server: " + servers);
      if (kill) {
        run.destroyForcibly();
      } else {
        run.destroy();
      }
      assertTrue(run.waitFor(60, TimeUnit.SECONDS), "the run ended");
      for (ProcessHandle server : servers) {
        server.onExit().get(60, TimeUnit.SECONDS);
        assertFalse(server.isAlive(), server + " still running");
      }
    } finally {
      // Only if the test failed: leave nothing running either way.
      run.descendants().forEach(ProcessHandle::destroyForcibly);
      servers.forEach(ProcessHandle::destroyForcibly);
      run.destroyForcibly();
    }
  }
}

package dev.ncalign.serving;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A server's {@code main} run as a parent process runs it: a child JVM on this JVM's class path,
 * offline, its ports read from the {@code listening on port N} / {@code metrics on port M} lines of
 * its stdout ({@link RunningServer#serveUntilStopped}). Stopped (and waited for) on close.
 */
public final class ChildServer implements AutoCloseable {

  private final Process process;
  private final int port;
  private final int metricsPort;

  private ChildServer(Process process, int port, int metricsPort) {
    this.process = process;
    this.port = port;
    this.metricsPort = metricsPort;
  }

  /**
   * Starts {@code main} with {@code args} (which must include {@code --metrics-port}), stderr to
   * {@code stderr}, and waits for both port lines.
   */
  public static ChildServer start(Class<?> main, Path stderr, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Dai.djl.offline=true");
    command.add("-Dai.djl.pytorch.num_threads=1");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(main.getName());
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectError(stderr.toFile()).start();
    try {
      BufferedReader out =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      int port = portFrom(out.readLine(), "listening on port (\\d+)", stderr);
      int metricsPort = portFrom(out.readLine(), "metrics on port (\\d+)", stderr);
      return new ChildServer(process, port, metricsPort);
    } catch (IOException | RuntimeException | AssertionError e) {
      process.destroyForcibly();
      throw e;
    }
  }

  private static int portFrom(String line, String pattern, Path stderr) throws IOException {
    assertNotNull(line, "the server exited without announcing its ports; stderr: " + read(stderr));
    Matcher matcher = Pattern.compile(pattern).matcher(line);
    assertTrue(matcher.matches(), line);
    return Integer.parseInt(matcher.group(1));
  }

  private static String read(Path file) throws IOException {
    return Files.exists(file) ? Files.readString(file) : "(none)";
  }

  /** The announced gRPC port. */
  public int port() {
    return port;
  }

  /** The announced metrics port. */
  public int metricsPort() {
    return metricsPort;
  }

  /**
   * Stops the child with SIGTERM (its shutdown hook closes the server) and checks it ends within 30
   * s.
   */
  @Override
  public void close() throws InterruptedException {
    process.destroy();
    try {
      assertTrue(process.waitFor(30, TimeUnit.SECONDS), "server did not stop on SIGTERM");
    } finally {
      process.destroyForcibly();
    }
  }
}

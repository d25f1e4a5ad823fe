package dev.ncalign.orchestrator.launch;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A policy or reward server started as a child JVM on a free loopback port, with the orchestrator's
 * own classpath. The child prints {@code listening on port N} once it serves; everything it prints
 * goes to a log file. Closing it stops the process; so does this JVM's exit, even on SIGTERM or
 * SIGINT (a shutdown hook), and the child exits on its own when this JVM is gone, even after
 * SIGKILL ({@code --parent-pid}).
 */
public final class ServerProcess implements AutoCloseable {
  /**
   * Our logging configuration, by name: the server jars on the class path each bring a logback.xml,
   * and with several logback picks one at random and prints a page of warnings.
   */
  public static final String LOGBACK_CONFIG = "ncalign-logback.xml";

  private static final Pattern LISTENING = Pattern.compile("listening on port (\\d+)");

  private final String name;
  private final Process process;
  private final int port;
  private final Thread stopOnExit;

  private ServerProcess(String name, Process process, int port, Thread stopOnExit) {
    this.name = name;
    this.process = process;
    this.port = port;
    this.stopOnExit = stopOnExit;
  }

  /**
   * Starts {@code mainClass} with {@code args} plus {@code --port 0} and waits until it listens.
   *
   * @throws IllegalStateException with the tail of its log if it exits or does not listen in time
   */
  public static ServerProcess start(
      String name, String mainClass, List<String> args, Path log, Duration timeout) {
    return start(name, mainClass, args, log, timeout, 0);
  }

  /**
   * As {@link #start(String, String, List, Path, Duration)} on a given loopback port (0 = any free
   * one), e.g. to restart a replica where its clients look for it.
   */
  public static ServerProcess start(
      String name, String mainClass, List<String> args, Path log, Duration timeout, int port) {
    // Servers share the machine with the learner: as many libtorch threads as this JVM was given
    // (default 1).
    String threads = System.getProperty("ai.djl.pytorch.num_threads", "1");
    List<String> command =
        new ArrayList<>(
            List.of(
                javaExecutable(),
                "-Dai.djl.offline=true",
                "-Xss4m",
                "-Dai.djl.pytorch.num_threads=" + threads,
                "-Dlogback.configurationFile=" + LOGBACK_CONFIG,
                "-cp",
                System.getProperty("java.class.path"),
                mainClass));
    command.addAll(args);
    command.addAll(
        List.of(
            "--port",
            String.valueOf(port),
            "--parent-pid",
            Long.toString(ProcessHandle.current().pid())));
    Process process;
    try {
      Files.createDirectories(log.toAbsolutePath().getParent());
      process = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the " + name + " server", e);
    }
    CompletableFuture<Integer> listening = new CompletableFuture<>();
    Thread stopOnExit = new Thread(() -> stop(process), name + "-server-stop");
    Runtime.getRuntime().addShutdownHook(stopOnExit);
    Thread pump = new Thread(() -> pumpOutput(process, log, listening), name + "-server-log");
    pump.setDaemon(true);
    pump.start();
    try {
      return new ServerProcess(
          name, process, listening.get(timeout.toMillis(), TimeUnit.MILLISECONDS), stopOnExit);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      throw new IllegalStateException("interrupted while starting the " + name + " server", e);
    } catch (ExecutionException | TimeoutException e) {
      process.destroyForcibly();
      throw new IllegalStateException(
          "the " + name + " server did not start (log: " + log + "):\n" + tail(log), e);
    }
  }

  private static void pumpOutput(Process process, Path log, CompletableFuture<Integer> port) {
    try (BufferedReader in =
            new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        PrintWriter out = new PrintWriter(Files.newBufferedWriter(log), true)) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        out.println(line);
        Matcher m = LISTENING.matcher(line);
        if (!port.isDone() && m.find()) {
          port.complete(Integer.parseInt(m.group(1)));
        }
      }
    } catch (IOException e) {
      port.completeExceptionally(e);
    }
    // Output ends when the process exits (or closes its stdout): a server that never listened has
    // failed.
    port.completeExceptionally(new IllegalStateException("its output ended before it listened"));
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException e) {
      return "(no log)";
    }
  }

  private static String javaExecutable() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** The port it listens on. */
  public int port() {
    return port;
  }

  /** Its gRPC target, {@code 127.0.0.1:port}. */
  public String target() {
    return "127.0.0.1:" + port;
  }

  /** Whether the process is still running. */
  public boolean isAlive() {
    return process.isAlive();
  }

  /** Ends the process at once, like {@code kill -9}: no shutdown hook, connections cut. */
  public void kill() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    stop(process);
    try {
      Runtime.getRuntime().removeShutdownHook(stopOnExit);
    } catch (IllegalStateException e) {
      // The JVM is shutting down: the hook is running or has run, nothing to remove.
    }
  }

  /** SIGTERM (the server's own shutdown hook closes it), SIGKILL if it is still up 10 s later. */
  private static void stop(Process process) {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }

  @Override
  public String toString() {
    return name + " server on " + target();
  }
}

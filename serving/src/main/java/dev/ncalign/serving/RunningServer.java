package dev.ncalign.serving;

/** A server started in this process: its ports, and a way to wait for and cause its end. */
public interface RunningServer extends AutoCloseable {

  /** The gRPC port actually bound. */
  int port();

  /** The Prometheus port, or {@link ShellOptions#METRICS_OFF}. */
  int metricsPort();

  /** Blocks until the server shuts down. */
  void awaitTermination() throws InterruptedException;

  /** Stops serving and frees the model. */
  @Override
  void close();

  /**
   * What a server's {@code main} does once the server is up: prints {@code listening on port N}
   * (and {@code metrics on port M} when metrics are on) on stdout, so a parent process that asked
   * for port 0 can read them (logs go to stderr), closes the server when the JVM is told to stop,
   * and waits for that.
   */
  static int serveUntilStopped(RunningServer server, String name) throws InterruptedException {
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, name + "-shutdown"));
    System.out.println("listening on port " + server.port());
    if (server.metricsPort() != ShellOptions.METRICS_OFF) {
      System.out.println("metrics on port " + server.metricsPort());
    }
    System.out.flush();
    server.awaitTermination();
    return 0;
  }
}

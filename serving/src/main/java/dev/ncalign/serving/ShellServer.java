package dev.ncalign.serving;

/**
 * A server whose listening is done by a {@link GrpcServerShell}: the ports and the wait come from
 * the shell; a subclass closes the shell and then frees what it serves.
 */
public abstract class ShellServer implements RunningServer {

  /** The shell the service runs in. */
  protected final GrpcServerShell shell;

  protected ShellServer(GrpcServerShell shell) {
    this.shell = shell;
  }

  @Override
  public int port() {
    return shell.port();
  }

  @Override
  public int metricsPort() {
    return shell.metricsPort();
  }

  @Override
  public void awaitTermination() throws InterruptedException {
    shell.awaitTermination();
  }
}

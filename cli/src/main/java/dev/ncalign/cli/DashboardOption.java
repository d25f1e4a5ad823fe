package dev.ncalign.cli;

import dev.ncalign.orchestrator.config.RunConfig;
import dev.ncalign.orchestrator.launch.ServiceStatus;
import dev.ncalign.orchestrator.loop.AlignmentRun;
import dev.ncalign.orchestrator.web.Dashboard;
import java.io.PrintStream;
import java.util.Optional;
import picocli.CommandLine.Option;

/** {@code --dashboard-port}: serve the live web dashboard of a run. */
final class DashboardOption {
  /** Any free port. */
  static final int ANY = -1;

  @Option(
      names = "--dashboard-port",
      paramLabel = "PORT",
      description =
          "serve the live dashboard on this port (0 = off, -1 = any free port; default: dashboard.port "
              + "of the config, or any free port for the demo)")
  Integer port;

  /** Starts the dashboard for {@code run} unless the port says off; prints its URL. */
  Optional<Dashboard> start(RunConfig config, AlignmentRun run, int fallback, PrintStream out) {
    int chosen =
        port != null ? port : config.dashboard().port() != 0 ? config.dashboard().port() : fallback;
    if (chosen == 0) {
      return Optional.empty();
    }
    Dashboard dashboard =
        Dashboard.start(
            chosen == ANY ? 0 : chosen,
            config.run().dir().getFileName().toString(),
            run.store(),
            new ServiceStatus(run.services()));
    run.addListener(dashboard);
    out.println("dashboard: " + dashboard.url());
    return Optional.of(dashboard);
  }
}

package dev.ncalign.cli;

import dev.ncalign.orchestrator.config.ConfigValidator;
import dev.ncalign.orchestrator.config.RunConfig;
import dev.ncalign.orchestrator.loop.AlignmentRun;
import dev.ncalign.orchestrator.web.Dashboard;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ncalign train}: an online or offline run from a YAML configuration. */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    description =
        "Train a policy online (sample, score, update, push) or offline on a dataset, from a YAML config.")
final class TrainCommand implements Callable<Integer> {
  @Mixin RunOptions options;

  @Mixin DashboardOption dashboardOption;

  @Option(
      names = "--resume",
      description = "continue the run in run.dir after its last completed round")
  boolean resume;

  @Override
  public Integer call() {
    RunConfig config = options.load(Path.of("configs/online.yaml"));
    ConfigValidator.checkFiles(config);
    RoundPrinter printer = new RoundPrinter(System.out, config.run().rounds());
    try (AlignmentRun run = AlignmentRun.open(config, resume, List.of(printer))) {
      if (run.firstRound() > config.run().rounds()) {
        System.out.println("run " + config.run().dir() + " is already complete");
        return 0;
      }
      Optional<Dashboard> dashboard = dashboardOption.start(config, run, 0, System.out);
      try {
        printer.header();
        run.run();
        RunSummary.write(run.store(), System.out);
      } finally {
        dashboard.ifPresent(Dashboard::close);
      }
    }
    return 0;
  }
}

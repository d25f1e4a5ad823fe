package dev.ncalign.cli;

import dev.ncalign.demo.DemoAssets;
import dev.ncalign.orchestrator.config.RunConfig;
import dev.ncalign.orchestrator.experiment.CellResult;
import dev.ncalign.orchestrator.experiment.ComparisonExperiment;
import dev.ncalign.orchestrator.experiment.ComparisonReport;
import dev.ncalign.orchestrator.web.Dashboard;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ncalign compare}: an experiment grid (loss × mode × seed) and its report. */
@Command(
    name = "compare",
    mixinStandardHelpOptions = true,
    description =
        "Run a grid of losses x {offline, online} x seeds on the demo task and write report.md with plots.")
final class CompareCommand implements Callable<Integer> {
  private static final Path DEFAULT_CONFIG = Path.of("configs/compare.yaml");

  @Mixin RunOptions options;

  @Mixin DashboardOption dashboardOption;

  @Option(
      names = "--assets",
      defaultValue = ".ncalign/assets",
      description =
          "demo model cache, used unless the config's model directories exist (default: ${DEFAULT-VALUE})")
  Path assets;

  @Override
  public Integer call() {
    RunConfig named = options.load(DEFAULT_CONFIG);
    List<String> modelOverrides = List.of();
    if (!Files.exists(named.policy().model()) || !Files.exists(named.reward().model())) {
      DemoAssets.Paths paths = DemoAssets.ensure(assets, System.out::println);
      modelOverrides =
          List.of(
              "policy.model=" + paths.policyBase(),
              "reward.model=" + paths.reward(),
              "prompts.file=" + paths.prompts());
    }
    RunConfig config = options.load(DEFAULT_CONFIG, modelOverrides.toArray(String[]::new));
    Path dir = config.run().dir();
    ComparisonExperiment experiment =
        new ComparisonExperiment(
            config,
            dir,
            System.out,
            (cell, run) -> {
              RoundPrinter printer = new RoundPrinter(System.out, config.run().rounds());
              run.addListener(printer);
              Optional<Dashboard> dashboard = dashboardOption.start(config, run, 0, System.out);
              printer.header();
              return () -> dashboard.ifPresent(Dashboard::close);
            });
    long start = System.nanoTime();
    List<CellResult> results = experiment.run();
    String setup =
        String.format(
            "Grid: %s; %d rounds of %d prompts x K=%d, %d epochs per round, lr %.1e, beta %.2f, "
                + "alpha %.2f; offline dataset passes: %d. Whole grid: %.0f s.",
            config.grid(),
            config.run().rounds(),
            config.sampling().promptsPerRound(),
            config.sampling().k(),
            config.optimizer().epochsPerRound(),
            config.optimizer().lr(),
            config.loss().beta(),
            config.loss().alpha(),
            config.offline().epochs(),
            (System.nanoTime() - start) / 1e9);
    int passRounds = Math.max(1, config.run().rounds() / config.offline().epochs());
    Path report =
        ComparisonReport.write(
            dir,
            results,
            passRounds,
            "./ncalign compare --config " + options.file(DEFAULT_CONFIG),
            setup);
    System.out.println("report: " + report);
    return 0;
  }
}

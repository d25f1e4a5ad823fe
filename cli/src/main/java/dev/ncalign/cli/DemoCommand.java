package dev.ncalign.cli;

import dev.ncalign.demo.DemoAssets;
import dev.ncalign.orchestrator.config.RunConfig;
import dev.ncalign.orchestrator.loop.AlignmentRun;
import dev.ncalign.orchestrator.source.PromptSet;
import dev.ncalign.orchestrator.train.ScoredPrompt;
import dev.ncalign.orchestrator.train.ScoredResponse;
import dev.ncalign.orchestrator.web.Dashboard;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ncalign demo}: builds the demo models if needed, starts a reward and a policy server, runs
 * online NCA rounds on product-review prompts, and shows samples before and after with the run's
 * plot.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description =
        "Build the demo models if missing, then run online NCA on synthetic product reviews.")
final class DemoCommand implements Callable<Integer> {
  private static final int SHOWN_PROMPTS = 3;
  private static final long SHOW_SEED = 42;

  private static final Path DEFAULT_CONFIG = Path.of("configs/demo.yaml");

  @Mixin RunOptions options;

  @Mixin DashboardOption dashboardOption;

  @Option(
      names = "--assets",
      defaultValue = ".ncalign/assets",
      description = "demo model cache (default: ${DEFAULT-VALUE})")
  Path assets;

  @Override
  public Integer call() {
    PrintStream out = System.out;
    DemoAssets.Paths paths = DemoAssets.ensure(assets, out::println);
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    List<String> demoSettings =
        List.of(
            "policy.model=" + paths.policyBase(),
            "reward.model=" + paths.reward(),
            "prompts.file=" + paths.prompts(),
            "run.dir=runs/demo-" + stamp);
    for (String key : options.overriddenKeys(demoSettings)) {
      System.err.println(
          "demo: --set "
              + key
              + " is replaced by the demo's own value (use `ncalign train` to choose it)");
    }
    RunConfig config = options.load(DEFAULT_CONFIG, demoSettings.toArray(String[]::new));
    RoundPrinter printer = new RoundPrinter(out, config.run().rounds());
    try (AlignmentRun run = AlignmentRun.open(config, false, List.of(printer))) {
      out.println("run directory: " + config.run().dir() + "  (servers: " + run.servers() + ")");
      List<String> shown = PromptSet.load(config.prompts().file()).evalPrompts(SHOWN_PROMPTS);
      printSamples(
          out,
          "before training (policy v" + run.policyClient().info().get(0).getLiveVersion() + ")",
          run,
          shown);
      Optional<Dashboard> dashboard = dashboardOption.start(config, run, DashboardOption.ANY, out);
      try {
        printer.header();
        run.run();
        printSamples(
            out,
            "after training (policy v" + run.policyClient().info().get(0).getLiveVersion() + ")",
            run,
            shown);
        RunSummary.write(run.store(), out);
      } finally {
        dashboard.ifPresent(Dashboard::close);
      }
    }
    out.printf(
        "%d rounds and the samples around them took %.0f s%n",
        config.run().rounds(), printer.elapsedSeconds());
    return 0;
  }

  private static void printSamples(
      PrintStream out, String title, AlignmentRun run, List<String> prompts) {
    out.println("--- samples " + title + " ---");
    for (ScoredPrompt p : run.sampler().sample(prompts, SHOW_SEED).batch().prompts()) {
      for (ScoredResponse r : p.responses().subList(0, Math.min(2, p.responses().size()))) {
        out.printf("  %-28s %-70s reward %6.2f%n", p.prompt(), r.text(), r.reward());
      }
    }
  }
}

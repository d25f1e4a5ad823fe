package dev.ncalign.cli;

import dev.ncalign.orchestrator.config.ConfigValidator;
import dev.ncalign.orchestrator.config.RunConfig;
import dev.ncalign.orchestrator.launch.Services;
import dev.ncalign.orchestrator.source.DatasetCollector;
import dev.ncalign.orchestrator.source.DatasetFile;
import dev.ncalign.orchestrator.train.ScoredPrompt;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ncalign collect}: an offline dataset from the live policy: K samples for each training
 * prompt, scored by the reward server, written as JSONL that {@code offline.dataset} reads.
 */
@Command(
    name = "collect",
    mixinStandardHelpOptions = true,
    description =
        "Sample K responses per prompt from a policy server, score them, and write an offline dataset.")
final class CollectCommand implements Callable<Integer> {
  @Mixin RunOptions options;

  @Option(
      names = {"-o", "--out"},
      required = true,
      description = "dataset file to write (JSONL)")
  Path out;

  @Option(
      names = "--prompts",
      defaultValue = "0",
      description = "prompts to collect (default 0: rounds x prompts_per_round of the config)")
  int count;

  @Override
  public Integer call() throws Exception {
    RunConfig config = options.load(Path.of("configs/online.yaml"));
    ConfigValidator.checkFiles(config);
    List<ScoredPrompt> rows =
        collect(
            config,
            count > 0 ? count : config.run().rounds() * config.sampling().promptsPerRound(),
            out.toAbsolutePath().getParent().resolve("logs"));
    DatasetFile.write(out, rows);
    System.out.printf(
        "wrote %d prompts x %d responses to %s%n", rows.size(), config.sampling().k(), out);
    return 0;
  }

  /**
   * {@code count} training prompts with K scored samples each, from the services of {@code config}.
   */
  static List<ScoredPrompt> collect(RunConfig config, int count, Path logDir) throws Exception {
    Files.createDirectories(logDir);
    try (Services services = Services.open(config, logDir)) {
      return DatasetCollector.collect(
          config, services, count, n -> System.out.printf("collected %d/%d prompts%n", n, count));
    }
  }
}

package dev.ncalign.orchestrator.cli;

import dev.ncalign.orchestrator.config.ConfigLoader;
import dev.ncalign.orchestrator.config.RunConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The options every run-configured command takes: a YAML file and overrides. */
final class RunOptions {
  @Option(names = {"-c", "--config"}, description = "YAML run configuration (default: ${DEFAULT-VALUE})",
      defaultValue = "configs/online.yaml")
  Path config;

  @Option(names = "--set", paramLabel = "PATH=VALUE",
      description = "override one field, e.g. --set loss.type=INFONCA (repeatable)")
  List<String> overrides = new ArrayList<>();

  /** The configuration with the overrides applied, plus {@code extra} overrides applied last. */
  RunConfig load(String... extra) {
    List<String> all = new ArrayList<>(overrides);
    all.addAll(List.of(extra));
    return ConfigLoader.load(config, all);
  }
}

package dev.ncalign.cli;

import dev.ncalign.orchestrator.config.ConfigLoader;
import dev.ncalign.orchestrator.config.RunConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The options every run-configured command takes: a YAML file and overrides. */
final class RunOptions {
  @Option(
      names = {"-c", "--config"},
      description = "YAML run configuration (each command has its default)")
  Path config;

  @Option(
      names = "--set",
      paramLabel = "PATH=VALUE",
      description = "override one field, e.g. --set loss.type=INFONCA (repeatable)")
  List<String> overrides = new ArrayList<>();

  /** The file {@code --config} names, or {@code fallback}. */
  Path file(Path fallback) {
    return config != null ? config : fallback;
  }

  /** The keys of {@code --set} overrides that {@code later} (PATH=VALUE too) set again. */
  List<String> overriddenKeys(List<String> later) {
    List<String> laterKeys = later.stream().map(RunOptions::key).toList();
    return overrides.stream().map(RunOptions::key).filter(laterKeys::contains).distinct().toList();
  }

  private static String key(String override) {
    int eq = override.indexOf('=');
    return (eq < 0 ? override : override.substring(0, eq)).strip();
  }

  /**
   * The configuration (or {@code fallback}) with the overrides, plus {@code extra} overrides
   * applied last.
   */
  RunConfig load(Path fallback, String... extra) {
    List<String> all = new ArrayList<>(overrides);
    all.addAll(List.of(extra));
    return ConfigLoader.load(file(fallback), all);
  }
}

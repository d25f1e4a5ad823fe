package dev.ncalign.orchestrator.experiment;

import dev.ncalign.orchestrator.config.ConfigLoader;
import dev.ncalign.orchestrator.config.Mode;
import dev.ncalign.orchestrator.config.RunConfig;
import dev.ncalign.orchestrator.launch.Services;
import dev.ncalign.orchestrator.loop.AlignmentRun;
import dev.ncalign.orchestrator.loss.LossType;
import dev.ncalign.orchestrator.source.DatasetCollector;
import dev.ncalign.orchestrator.source.DatasetFile;
import dev.ncalign.orchestrator.store.RunStore;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs an experiment grid (loss × mode × seed) on one base policy, one prompt set and one reward
 * model, with equal update budgets: every cell runs the same rounds of P prompts × K responses.
 * Offline cells train on one dataset collected from the base policy before any training, sized so
 * the rounds make {@code offline.epochs} passes over it; online cells sample fresh each round. One
 * policy and one reward service serve every cell in turn (a cell starts by pushing the base
 * weights).
 */
public final class ComparisonExperiment {
  private final RunConfig config;
  private final Path outDir;
  private final PrintStream out;
  private final CellObserver observer;

  /**
   * Watches each cell run: adds its listeners (progress, dashboard) and gets closed when the cell
   * ends.
   */
  @FunctionalInterface
  public interface CellObserver {
    /** Called once the cell's run is open, before its first round. */
    AutoCloseable started(GridCell cell, AlignmentRun run);
  }

  public ComparisonExperiment(
      RunConfig config, Path outDir, PrintStream out, CellObserver observer) {
    if (config.grid() == null) {
      throw new IllegalArgumentException("the config has no grid section: nothing to compare");
    }
    this.config = config;
    this.outDir = outDir;
    this.out = out;
    this.observer = observer;
  }

  /** The cells, in the order they run: loss, then mode, then seed. */
  public List<GridCell> cells() {
    List<GridCell> cells = new ArrayList<>();
    for (LossType loss : config.grid().losses()) {
      for (Mode mode : config.grid().modes()) {
        for (long seed : config.grid().seeds()) {
          cells.add(new GridCell(loss, mode, seed));
        }
      }
    }
    return cells;
  }

  /** Runs every cell and returns their results. */
  public List<CellResult> run() {
    try {
      Files.createDirectories(outDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + outDir, e);
    }
    List<CellResult> results = new ArrayList<>();
    try (Services services = Services.open(config, outDir.resolve("logs"))) {
      Path dataset = config.grid().modes().contains(Mode.OFFLINE) ? collectDataset(services) : null;
      for (GridCell cell : cells()) {
        out.println("=== " + cell.name() + " ===");
        RunConfig cellConfig = cellConfig(cell, services, dataset);
        long start = System.nanoTime();
        try (AlignmentRun run = AlignmentRun.open(cellConfig, false, List.of());
            AutoCloseable watching = observer.started(cell, run)) {
          run.run();
        } catch (RuntimeException e) {
          throw e;
        } catch (Exception e) {
          throw new IllegalStateException("cannot close the observer of " + cell.name(), e);
        }
        results.add(
            new CellResult(
                cell,
                RunStore.open(cellConfig.run().dir()).metrics(),
                (System.nanoTime() - start) / 1e9));
      }
    }
    return results;
  }

  /**
   * Collected once from the base policy: rounds × P / epochs prompts with K scored samples each.
   */
  private Path collectDataset(Services services) {
    Path dataset = outDir.resolve("dataset.jsonl");
    int size =
        (int)
            Math.ceil(
                config.run().rounds()
                    * (double) config.sampling().promptsPerRound()
                    / config.offline().epochs());
    out.printf(
        "collecting the offline dataset: %d prompts x %d responses from the base policy%n",
        size, config.sampling().k());
    DatasetFile.write(dataset, DatasetCollector.collect(config, services, size, n -> {}));
    return dataset;
  }

  private RunConfig cellConfig(GridCell cell, Services services, Path dataset) {
    List<String> overrides =
        new ArrayList<>(
            List.of(
                "loss.type=" + cell.loss(),
                "mode=" + cell.mode(),
                "run.seed=" + cell.seed(),
                "run.dir=" + outDir.resolve("cells").resolve(cell.name()),
                "policy.targets=" + services.policyTargets(),
                "reward.targets=" + services.rewardTargets()));
    if (dataset != null) {
      overrides.add("offline.dataset=" + dataset);
    }
    return ConfigLoader.parse(ConfigLoader.toYaml(config), overrides);
  }
}

package dev.ncalign.cli;

import dev.ncalign.demo.DemoAssets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ncalign assets}: builds the demo's base policy and reward model (cached; rebuilt only if
 * missing).
 */
@Command(
    name = "assets",
    mixinStandardHelpOptions = true,
    description =
        "Build the demo models if missing: the embedded ONNX reward model and the SFT base policy.")
final class AssetsCommand implements Callable<Integer> {
  @Option(
      names = "--dir",
      defaultValue = ".ncalign/assets",
      description = "where to build them (default: ${DEFAULT-VALUE})")
  Path dir;

  @Override
  public Integer call() {
    DemoAssets.Paths paths = DemoAssets.ensure(dir, System.out::println);
    System.out.println("policy: " + paths.policyBase());
    System.out.println("reward: " + paths.reward());
    return 0;
  }
}

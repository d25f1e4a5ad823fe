package dev.ncalign.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * {@code ncalign serve-reward ARGS}: the reward server in this JVM (ARGS as for {@code
 * reward-server --help}).
 */
@Command(
    name = "serve-reward",
    description = "Start a reward server: ncalign serve-reward --model DIR --port N (see --help).")
final class ServeRewardCommand implements Callable<Integer> {
  @Unmatched List<String> args = new ArrayList<>();

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    return Ncalign.runNested(spec, new dev.ncalign.reward.Main(), args);
  }
}

package dev.ncalign.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
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
    // Its own command line, with our failure handling: a bad flag or a failed start is one line.
    return Ncalign.withFailureHandling(
            new CommandLine(new dev.ncalign.reward.Main())
                .setOut(spec.commandLine().getOut())
                .setErr(spec.commandLine().getErr()),
            Ncalign.isVerbose(spec.commandLine().getParseResult()))
        .execute(args.toArray(String[]::new));
  }
}

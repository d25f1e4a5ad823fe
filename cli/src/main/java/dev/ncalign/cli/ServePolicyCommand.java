package dev.ncalign.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * {@code ncalign serve-policy ARGS}: the policy server in this JVM (ARGS as for {@code
 * policy-server --help}).
 */
@Command(
    name = "serve-policy",
    description = "Start a policy server: ncalign serve-policy --model DIR --port N (see --help).")
final class ServePolicyCommand implements Callable<Integer> {
  @Unmatched List<String> args = new ArrayList<>();

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    return Ncalign.runNested(spec, new dev.ncalign.policy.Main(), args);
  }
}

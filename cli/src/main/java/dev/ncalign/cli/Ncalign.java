package dev.ncalign.cli;

import dev.ncalign.orchestrator.config.ConfigException;
import dev.ncalign.orchestrator.launch.ServerProcess;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ncalign} command line: one subcommand per job. */
@Command(
    name = "ncalign",
    mixinStandardHelpOptions = true,
    version = "ncalign 0.1.0",
    description = "Online alignment of language models with explicit rewards (NCA / InfoNCA).",
    subcommands = {
      DemoCommand.class,
      TrainCommand.class,
      CollectCommand.class,
      CompareCommand.class,
      SftCommand.class,
      MergeCommand.class,
      AssetsCommand.class,
      ServePolicyCommand.class,
      ServeRewardCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Ncalign implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
    System.setProperty(
        "logback.configurationFile",
        System.getProperty("logback.configurationFile", ServerProcess.LOGBACK_CONFIG));
    System.setProperty(
        "ncalign.console.level", System.getProperty("ncalign.console.level", "WARN"));
    System.exit(commandLine().execute(args));
  }

  /** The configured command line; tests execute it without exiting the JVM. */
  public static CommandLine commandLine() {
    return new CommandLine(new Ncalign()).setExecutionExceptionHandler(Ncalign::userError);
  }

  /** Expected user errors (bad config, bad input) are one line, not a stack trace. */
  private static int userError(Exception e, CommandLine cmd, CommandLine.ParseResult parsed)
      throws Exception {
    if (e instanceof ConfigException
        || e instanceof IllegalArgumentException
        || e instanceof IllegalStateException) {
      cmd.getErr()
          .println(e instanceof ConfigException ? e.getMessage() : "error: " + e.getMessage());
      return 2;
    }
    throw e;
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}

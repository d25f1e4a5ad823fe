package dev.ncalign.cli;

import dev.ncalign.orchestrator.config.ConfigException;
import dev.ncalign.orchestrator.launch.ServerProcess;
import java.util.List;
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
      BenchCommand.class,
      ServePolicyCommand.class,
      ServeRewardCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Ncalign implements Runnable {
  /** Exit status of a failure the user can fix (bad config, bad input). */
  static final int USER_ERROR = 2;

  /** Exit status of any other failure. */
  static final int FAILURE = 1;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Option(
      names = "--verbose",
      scope = CommandLine.ScopeType.INHERIT,
      description = "print the stack trace of a failure (by default it is one line)")
  boolean verbose;

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
    return withFailureHandling(new CommandLine(new Ncalign()), false);
  }

  /**
   * {@code commandLine} with every failure reported as one line and a non-zero exit: a bad option
   * ({@value #USER_ERROR}, pointing at --help) or an exception in the command (see {@link
   * #userError}).
   *
   * @param verbose print stack traces even when this command line saw no {@code --verbose}
   */
  static CommandLine withFailureHandling(CommandLine commandLine, boolean verbose) {
    return commandLine
        .setExecutionExceptionHandler((e, cmd, parsed) -> userError(e, cmd, parsed, verbose))
        .setParameterExceptionHandler(
            (e, args) -> {
              CommandLine cmd = e.getCommandLine();
              cmd.getErr()
                  .println(
                      "error: "
                          + e.getMessage()
                          + " (see: "
                          + cmd.getCommandSpec().qualifiedName()
                          + " --help)");
              return USER_ERROR;
            });
  }

  /**
   * Every failure is one line on stderr and a non-zero exit: {@value #USER_ERROR} for what the user
   * can fix (bad config, bad input), {@value #FAILURE} otherwise. {@code --verbose} adds the stack
   * trace.
   */
  private static int userError(
      Exception e, CommandLine cmd, CommandLine.ParseResult parsed, boolean forceVerbose) {
    boolean verbose = forceVerbose || isVerbose(parsed);
    cmd.getErr().println(FailureMessage.of(e));
    if (verbose) {
      e.printStackTrace(cmd.getErr());
    }
    return e instanceof ConfigException
            || e instanceof IllegalArgumentException
            || e instanceof IllegalStateException
        ? USER_ERROR
        : FAILURE;
  }

  /**
   * Runs a picocli command of another module (a server's {@code Main}) with {@code args}, as a part
   * of this command line: same stdout/stderr, same one-line failures, {@code --verbose} honoured.
   */
  static int runNested(CommandLine.Model.CommandSpec spec, Object command, List<String> args) {
    CommandLine parent = spec.commandLine();
    return withFailureHandling(
            new CommandLine(command).setOut(parent.getOut()).setErr(parent.getErr()),
            isVerbose(parent.getParseResult()))
        .execute(args.toArray(String[]::new));
  }

  /** Whether {@code --verbose} was given to any command of this parse. */
  static boolean isVerbose(CommandLine.ParseResult parsed) {
    return parsed.asCommandLineList().stream()
        .anyMatch(c -> c.getParseResult().hasMatchedOption("--verbose"));
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}

package dev.ncalign.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Every command-line failure is one line and a non-zero exit; --verbose adds the stack trace. */
class FailureOutputTest {
  @TempDir Path tmp;

  private record Result(int exit, List<String> err) {}

  private static Result ncalign(String... args) {
    StringWriter err = new StringWriter();
    CommandLine cli = Ncalign.commandLine();
    cli.setErr(new PrintWriter(err, true));
    int exit = cli.execute(args);
    return new Result(exit, err.toString().lines().toList());
  }

  private static void assertOneLine(Result result, int exit, String contains) {
    assertEquals(exit, result.exit(), "exit status; stderr: " + result.err());
    assertEquals(1, result.err().size(), "one line: " + result.err());
    assertTrue(result.err().get(0).contains(contains), result.err().get(0));
  }

  @Test
  void aMissingConfigIsOneLine() {
    Path missing = tmp.resolve("missing.yaml");
    assertOneLine(ncalign("train", "--config", missing.toString()), 2, "missing.yaml");
  }

  @Test
  void anUnknownOptionIsOneLinePointingAtHelp() {
    assertOneLine(ncalign("train", "--no-such-flag"), 2, "--help");
  }

  @Test
  void aServerThatCannotStartIsOneLine() {
    Result result = ncalign("serve-reward", "--model", tmp.resolve("no-model").toString());
    assertTrue(result.exit() != 0, "non-zero exit");
    assertEquals(1, result.err().size(), "one line: " + result.err());
    assertTrue(result.err().get(0).startsWith("error: "), result.err().get(0));
  }

  @Test
  void verboseAddsTheStackTrace() {
    Path missing = tmp.resolve("missing.yaml");
    Result result = ncalign("train", "--config", missing.toString(), "--verbose");
    assertEquals(2, result.exit());
    assertTrue(result.err().size() > 3, "message and stack: " + result.err());
    assertTrue(result.err().stream().anyMatch(l -> l.strip().startsWith("at ")), "a stack trace");
  }

  @Test
  void theDemoNamesTheSetKeysItReplaces() {
    RunOptions options = new RunOptions();
    options.overrides.addAll(List.of("policy.model=/x", "loss.beta=0.2", "run.dir = d"));
    assertEquals(
        List.of("policy.model", "run.dir"),
        options.overriddenKeys(List.of("policy.model=/a", "reward.model=/b", "run.dir=runs/x")));
  }
}

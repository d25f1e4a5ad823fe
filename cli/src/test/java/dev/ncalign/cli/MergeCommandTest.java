package dev.ncalign.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.ncalign.lm.lora.LoraAdapter;
import dev.ncalign.lm.lora.LoraConfig;
import dev.ncalign.lm.lora.PeftAdapterDirectory;
import dev.ncalign.lm.lora.TestAdapters;
import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.lm.model.TestModels;
import dev.ncalign.lm.model.TinyModelSpec;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ncalign merge}: the merged directory computes what base + adapter computes. */
class MergeCommandTest {

  @TempDir Path tmp;

  @Test
  void mergedModelEqualsBasePlusAdapter() {
    Path adapterDir = tmp.resolve("adapter");
    Path merged = tmp.resolve("merged");
    float[] expected;
    try (CausalLm base = TestModels.loadTiny()) {
      float[] baseLogprobs = logprobs(base);
      LoraAdapter adapter = TestAdapters.random(base, TestAdapters.ALL_LINEAR, 21);
      PeftAdapterDirectory.save(adapter, adapterDir);
      try (CausalLm view = base.withAdapter(adapter)) {
        expected = logprobs(view);
      }
      assertTrue(Math.abs(expected[0] - baseLogprobs[0]) > 1e-3, "the adapter changes the model");
    }
    assertEquals(0, merge(Ncalign.commandLine(), adapterDir, merged));
    try (CausalLm lm = CausalLm.load(merged, Device.cpu())) {
      assertArrayEquals(expected, logprobs(lm), 2e-4f);
    }
  }

  @Test
  void anAdapterForAnotherBaseIsOneLineError() {
    Path adapterDir = tmp.resolve("other");
    Path otherBase = TestModels.write(new TinyModelSpec(48, 2, 4, 2, 64, 64), 3);
    try (CausalLm base = CausalLm.load(otherBase, Device.cpu());
        LoraAdapter adapter =
            LoraAdapter.initialize(base, new LoraConfig(2, 4, 0, List.of("q_proj"), ""), 1)) {
      PeftAdapterDirectory.save(adapter, adapterDir);
    }
    StringWriter err = new StringWriter();
    CommandLine cli = Ncalign.commandLine().setErr(new PrintWriter(err));
    assertEquals(2, merge(cli, adapterDir, tmp.resolve("x")));
    assertTrue(
        err.toString().startsWith("error: ") && err.toString().contains("has shape"),
        err.toString());
  }

  /** {@code ncalign merge} of {@code adapter} onto the tiny test model into {@code out}. */
  private static int merge(CommandLine cli, Path adapter, Path out) {
    return cli.execute(
        "merge",
        "--base",
        TestModels.tinyDir().toString(),
        "--adapter",
        adapter.toString(),
        "--out",
        out.toString());
  }

  private static float[] logprobs(CausalLm lm) {
    try (NDManager scope = lm.manager().newSubManager()) {
      return lm.logprobs(
              scope,
              List.of(lm.codec().encodePrompt("the big dog")),
              List.of(lm.codec().encodeResponse("is very happy .")),
              false)
          .tokenLogprobs()
          .toFloatArray();
    }
  }
}

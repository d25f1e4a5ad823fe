package dev.ncalign.cli;

import ai.djl.engine.Engine;
import dev.ncalign.lm.lora.LoraMerge;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ncalign merge}: a LoRA checkpoint folded into its base, as a plain HF directory. */
@Command(
    name = "merge",
    mixinStandardHelpOptions = true,
    description =
        "Merge a PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors, e.g. a LoRA"
            + " run's checkpoints/round-N) into its base model and write a Hugging Face model"
            + " directory.")
final class MergeCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--base", required = true, description = "base model directory (HF)")
  Path base;

  @Option(names = "--adapter", required = true, description = "PEFT adapter directory")
  Path adapter;

  @Option(names = "--out", required = true, description = "merged model directory to write")
  Path out;

  @Override
  public Integer call() {
    LoraMerge.write(base, adapter, out, Engine.getInstance().defaultDevice());
    spec.commandLine().getOut().println("merged " + adapter + " into " + base + ": " + out);
    return 0;
  }
}

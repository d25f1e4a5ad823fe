package dev.ncalign.lm.lora;

import ai.djl.Device;
import dev.ncalign.lm.model.CausalLm;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Folds a PEFT adapter into its base model: an HF model directory whose targeted weights are {@code
 * W + (alpha/r)·B·A}, which any Llama/Qwen2 loader serves without LoRA support (PEFT's {@code
 * merge_and_unload}).
 */
public final class LoraMerge {

  private LoraMerge() {}

  /**
   * Writes base + adapter as an HF model directory in {@code out}.
   *
   * @throws IllegalArgumentException if the adapter does not fit the base, or {@code out} is the
   *     base or adapter directory
   */
  public static void write(Path baseDir, Path adapterDir, Path out, Device device) {
    Path target = out.toAbsolutePath().normalize();
    if (target.equals(baseDir.toAbsolutePath().normalize())
        || target.equals(adapterDir.toAbsolutePath().normalize())) {
      throw new IllegalArgumentException("--out must differ from the base and adapter directories");
    }
    if (!PeftAdapterDirectory.isAdapter(adapterDir)) {
      throw new IllegalArgumentException(
          adapterDir + " holds no " + PeftAdapterDirectory.CONFIG + " (not a PEFT adapter)");
    }
    if (!Files.isDirectory(baseDir)) {
      throw new IllegalArgumentException("no such base model directory " + baseDir);
    }
    try (CausalLm base = CausalLm.load(baseDir, device);
        LoraAdapter adapter = PeftAdapterDirectory.load(adapterDir, base)) {
      adapter.mergeInto(base);
      base.save(out);
    }
  }
}

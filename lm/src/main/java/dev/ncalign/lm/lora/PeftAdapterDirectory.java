package dev.ncalign.lm.lora;

import dev.ncalign.lm.model.CausalLm;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A PEFT adapter directory, as {@code PeftModel.save_pretrained} writes it and {@code
 * PeftModel.from_pretrained(base, dir)} reads it: {@code adapter_config.json} plus {@code
 * adapter_model.safetensors}.
 */
public final class PeftAdapterDirectory {

  public static final String CONFIG = "adapter_config.json";
  public static final String WEIGHTS = "adapter_model.safetensors";

  private PeftAdapterDirectory() {}

  /** Writes {@code adapter} into {@code dir} (created if missing). */
  public static void save(LoraAdapter adapter, Path dir) {
    try {
      Files.createDirectories(dir);
      Files.writeString(dir.resolve(CONFIG), adapter.config().toPeftJson());
      try (OutputStream out =
          new BufferedOutputStream(Files.newOutputStream(dir.resolve(WEIGHTS)), 1 << 20)) {
        adapter.writeSafetensors(out);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot save the adapter to " + dir, e);
    }
  }

  /** True when {@code dir} holds an adapter config. */
  public static boolean isAdapter(Path dir) {
    return Files.isRegularFile(dir.resolve(CONFIG));
  }

  /** Reads the config of the adapter in {@code dir}. */
  public static LoraConfig readConfig(Path dir) {
    try {
      return LoraConfig.fromPeftJson(Files.readString(dir.resolve(CONFIG)));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + dir.resolve(CONFIG), e);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(dir.resolve(CONFIG) + ": " + e.getMessage(), e);
    }
  }

  /**
   * Loads the adapter in {@code dir} for {@code base}, checked against it (names, shapes, rank).
   */
  public static LoraAdapter load(Path dir, CausalLm base) {
    LoraConfig config = readConfig(dir);
    try (InputStream in =
        new BufferedInputStream(Files.newInputStream(dir.resolve(WEIGHTS)), 1 << 20)) {
      return LoraAdapter.read(base, config, in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + dir.resolve(WEIGHTS), e);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(dir.resolve(WEIGHTS) + ": " + e.getMessage(), e);
    }
  }
}

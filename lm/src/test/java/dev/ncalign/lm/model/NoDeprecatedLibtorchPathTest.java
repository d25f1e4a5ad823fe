package dev.ncalign.lm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.djl.ndarray.types.Shape;
import dev.ncalign.lm.lora.LoraAdapter;
import dev.ncalign.lm.lora.LoraConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every way weights get into a model (load, push into a standby, LoRA initialisation and an adapter
 * read) avoids libtorch's deprecated AutoNonVariableTypeMode path, which prints a warning that it
 * may give "silent wrong result". libtorch prints it once per process, so the paths run in a fresh
 * JVM ({@link #main}) and its output is checked.
 */
class NoDeprecatedLibtorchPathTest {
  @TempDir Path tmp;

  @Test
  void loadingPushingAndAdaptersPrintNoDeprecationWarning() throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Dai.djl.offline=true");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(NoDeprecatedLibtorchPathTest.class.getName());
    command.add(tmp.toString());
    Path output = tmp.resolve("output.txt");
    Process child =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(output.toFile())
            .start();
    assertEquals(true, child.waitFor(5, TimeUnit.MINUTES), "the child JVM finished");
    String text = Files.readString(output);
    assertEquals(0, child.exitValue(), text);
    assertEquals(true, text.contains("weights in: 4 paths"), text);
    assertFalse(text.contains("AutoNonVariableTypeMode"), text);
  }

  /** The child: each path once. */
  public static void main(String[] args) throws Exception {
    Path dir =
        TinyModelFactory.write(
            Path.of(args[0], "model"), List.of("a", "b", "c", "."), TinyModelSpec.tiny(), 3);
    try (CausalLm model = CausalLm.load(dir, ai.djl.Device.cpu())) {
      ByteArrayOutputStream weights = new ByteArrayOutputStream();
      model.writeSafetensors(weights);
      try (CausalLm standby = model.newStandby()) {
        standby.loadSafetensors(new ByteArrayInputStream(weights.toByteArray()));
      }
      LoraConfig config = new LoraConfig(2, 4, 0, List.of("q_proj", "v_proj"), dir.toString());
      try (LoraAdapter adapter = LoraAdapter.initialize(model, config, 5)) {
        ByteArrayOutputStream tensors = new ByteArrayOutputStream();
        adapter.writeSafetensors(tensors);
        try (LoraAdapter read =
            LoraAdapter.read(model, config, new ByteArrayInputStream(tensors.toByteArray()))) {
          Shape shape = read.parameters().values().iterator().next().getArray().getShape();
          System.out.println("weights in: 4 paths, first adapter tensor " + shape);
        }
      }
    }
  }
}

package dev.ncalign.lm.lora;

import ai.djl.nn.Parameter;
import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.lm.model.Safetensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which A/B tensors an adapter of a given {@link LoraConfig} has on a given base model, and the
 * check that a received set of tensors is exactly that.
 */
final class LoraShapes {

  private LoraShapes() {}

  /**
   * Expected tensors by PEFT name, A then B per targeted module, in model order: A [r, in], B [out,
   * r] for each base weight {@code model.layers.*.<target>.weight} [out, in].
   */
  static Map<String, long[]> expected(CausalLm base, LoraConfig config) {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    for (Map.Entry<String, Parameter> e : base.parameters().entrySet()) {
      String name = e.getKey();
      if (!name.startsWith("model.layers.") || !name.endsWith(".weight")) {
        continue;
      }
      String module = name.substring(0, name.length() - ".weight".length());
      String leaf = module.substring(module.lastIndexOf('.') + 1);
      if (!config.targets().contains(leaf)) {
        continue;
      }
      long[] w = e.getValue().getArray().getShape().getShape();
      shapes.put(LoraAdapter.aName(module), new long[] {config.rank(), w[1]});
      shapes.put(LoraAdapter.bName(module), new long[] {w[0], config.rank()});
    }
    if (shapes.isEmpty()) {
      throw new IllegalArgumentException(
          "target_modules " + config.targets() + " match no linear layer of the base model");
    }
    return shapes;
  }

  /** Modules of an expected-shapes map, in order. */
  static List<String> modules(Map<String, long[]> shapes) {
    Set<String> modules = new LinkedHashSet<>();
    shapes.keySet().forEach(name -> modules.add(LoraAdapter.moduleOf(name)));
    return new ArrayList<>(modules);
  }

  /**
   * Every received tensor is expected with its exact shape, and every expected one is received.
   *
   * @throws IllegalArgumentException naming the first offending tensor and why
   */
  static void check(
      Map<String, Safetensors.TensorInfo> received, Map<String, long[]> expected, LoraConfig c) {
    for (Safetensors.TensorInfo info : received.values()) {
      String name = info.name();
      long[] shape = expected.get(name);
      if (shape == null) {
        String module = LoraAdapter.moduleOf(name);
        throw new IllegalArgumentException(
            module == null
                ? "tensor '" + name + "' is not a LoRA A or B weight in PEFT naming"
                : "tensor '"
                    + name
                    + "' adapts a module outside target_modules "
                    + c.targets()
                    + " or absent from the base model");
      }
      if (!Arrays.equals(shape, info.shape())) {
        String why =
            info.shape().length == 2
                    && (name.endsWith(".lora_A.weight") ? info.shape()[0] : info.shape()[1])
                        != c.rank()
                ? " (rank " + c.rank() + " in adapter_config.json)"
                : "";
        throw new IllegalArgumentException(
            "tensor '"
                + name
                + "' has shape "
                + LoraAdapter.shape(info.shape())
                + ", expected "
                + LoraAdapter.shape(shape)
                + why);
      }
    }
    for (String name : expected.keySet()) {
      if (!received.containsKey(name)) {
        throw new IllegalArgumentException("missing tensor '" + name + "'");
      }
    }
  }
}

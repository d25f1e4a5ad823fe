package dev.ncalign.lm.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.pytorch.jni.JniUtils;
import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.lm.model.LinearAdapter;
import dev.ncalign.lm.model.NoGrad;
import dev.ncalign.lm.model.Safetensors;
import dev.ncalign.lm.model.SafetensorsWriter;
import dev.ncalign.lm.model.WeightArrays;
import dev.ncalign.lm.model.WeightDType;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * A LoRA adapter on a base model: for each targeted linear layer {@code W} [out, in], trainable
 * {@code A} [r, in] and {@code B} [out, r], so the layer computes {@code x·Wᵀ +
 * (alpha/r)·(x·Aᵀ)·Bᵀ} (PEFT's {@code lora.Linear}). Tensors are named as PEFT saves them, {@code
 * base_model.model.<module>.lora_A.weight}. Arrays live in a sub-manager of the base model's.
 */
public final class LoraAdapter implements LinearAdapter {

  private static final String PREFIX = "base_model.model.";
  private static final String A_SUFFIX = ".lora_A.weight";
  private static final String B_SUFFIX = ".lora_B.weight";

  private final LoraConfig config;
  private final NDManager manager;
  private final Map<String, Pair> pairs;
  private final Map<String, Parameter> parameters;
  private final float scale;
  private final float dropout;

  /** The A and B of one module. */
  private record Pair(Parameter a, Parameter b) {}

  private LoraAdapter(LoraConfig config, NDManager manager, Map<String, Pair> pairs) {
    this.config = config;
    this.manager = manager;
    this.pairs = pairs;
    this.scale = config.scale();
    this.dropout = (float) config.dropout();
    Map<String, Parameter> byName = new LinkedHashMap<>();
    pairs.values().forEach(p -> byName.put(p.a().getName(), p.a()));
    pairs.values().forEach(p -> byName.put(p.b().getName(), p.b()));
    this.parameters = Collections.unmodifiableMap(byName);
  }

  /**
   * A fresh adapter initialised as PEFT does ({@code init_lora_weights=True}): A Kaiming-uniform
   * with a = √5, i.e. uniform in ±1/√in, and B zero, so the adapted model starts equal to the base.
   */
  public static LoraAdapter initialize(CausalLm base, LoraConfig config, long seed) {
    Random random = new Random(seed);
    Map<String, long[]> shapes = LoraShapes.expected(base, config);
    NDManager manager = base.manager().newSubManager();
    try {
      Map<String, Pair> pairs = new LinkedHashMap<>();
      for (String module : LoraShapes.modules(shapes)) {
        long[] aShape = shapes.get(aName(module));
        // kaiming_uniform_(a=sqrt(5)): gain sqrt(2/(1+5)), bound gain*sqrt(3/fan_in) = 1/sqrt(in)
        float bound = (float) (1 / Math.sqrt(aShape[1]));
        float[] a = new float[Math.toIntExact(aShape[0] * aShape[1])];
        for (int i = 0; i < a.length; i++) {
          a[i] = (random.nextFloat() * 2 - 1) * bound;
        }
        Parameter pa = parameter(manager, aName(module), aShape);
        WeightArrays.copyInto(pa.getArray(), a);
        pairs.put(
            module, new Pair(pa, parameter(manager, bName(module), shapes.get(bName(module)))));
      }
      return new LoraAdapter(config, manager, pairs);
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  /**
   * Reads adapter tensors (safetensors, PEFT names) for {@code base}. Everything is checked before
   * anything is kept: every module {@code config} targets has both tensors, none other is present,
   * each shape is [r, in] / [out, r] with r = {@code config.rank()}.
   *
   * @throws IllegalArgumentException naming the offending tensor
   */
  public static LoraAdapter read(CausalLm base, LoraConfig config, InputStream safetensors) {
    Map<String, long[]> shapes = LoraShapes.expected(base, config);
    Safetensors.Reader reader = new Safetensors.Reader(safetensors);
    LoraShapes.check(reader.header(), shapes, config);
    NDManager manager = base.manager().newSubManager();
    try {
      Map<String, Parameter> byName = new LinkedHashMap<>();
      shapes.forEach((name, shape) -> byName.put(name, parameter(manager, name, shape)));
      reader.forEachTensor(
          (info, data) -> {
            WeightArrays.copyInto(byName.get(info.name()).getArray(), info, data);
          });
      Map<String, Pair> pairs = new LinkedHashMap<>();
      for (String module : LoraShapes.modules(shapes)) {
        pairs.put(module, new Pair(byName.get(aName(module)), byName.get(bName(module))));
      }
      return new LoraAdapter(config, manager, pairs);
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  /** The adapter's shape (rank, alpha, dropout, targets, base model). */
  public LoraConfig config() {
    return config;
  }

  @Override
  public Map<String, Parameter> parameters() {
    return parameters;
  }

  /** Number of trainable scalars. */
  public long parameterCount() {
    return parameters.values().stream().mapToLong(p -> p.getArray().size()).sum();
  }

  @Override
  public NDArray adapt(String module, NDArray input, NDArray output) {
    Pair pair = pairs.get(module);
    if (pair == null) {
      return output;
    }
    NDArray x = input;
    // PEFT applies lora_dropout to the adapter's input only, and only in training; inference here
    // always runs with autograd off.
    if (dropout > 0 && JniUtils.isGradMode()) {
      x = Dropout.dropout(x, dropout, true).singletonOrThrow();
    }
    // Input first, so the results stay in the caller's manager.
    NDArray down = Linear.linear(x, pair.a().getArray(), null).singletonOrThrow();
    NDArray up = Linear.linear(down, pair.b().getArray(), null).singletonOrThrow();
    return output.add(up.mul(scale));
  }

  /**
   * Adds {@code (alpha/r)·B·A} to each targeted weight of {@code model} in place: {@code model}
   * then computes what the base with this adapter computes. {@code model} must have the base's
   * architecture and hold the base weights (merging twice adds the update twice).
   */
  public void mergeInto(CausalLm model) {
    Map<String, Parameter> weights = model.parameters();
    try (NDManager scope = model.manager().newSubManager();
        NoGrad ignored = NoGrad.enter()) {
      for (Map.Entry<String, Pair> e : pairs.entrySet()) {
        NDArray weight = weights.get(e.getKey() + ".weight").getArray();
        NDArray a = e.getValue().a().getArray().duplicate();
        a.attach(scope);
        NDArray b = e.getValue().b().getArray().duplicate();
        b.attach(scope);
        weight.addi(b.matMul(a).muli(scale));
      }
    }
  }

  /** Writes every A and B as F32 under its PEFT name. */
  public void writeSafetensors(OutputStream out) {
    Map<String, NDArray> arrays = new LinkedHashMap<>();
    parameters.forEach((name, p) -> arrays.put(name, p.getArray()));
    SafetensorsWriter.write(out, arrays, WeightDType.F32);
  }

  /** {@link #writeSafetensors} into memory: what a LoRA weight push carries. */
  public byte[] toSafetensorsBytes() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    writeSafetensors(out);
    return out.toByteArray();
  }

  /** Frees A and B. */
  @Override
  public void close() {
    manager.close();
  }

  @Override
  public String toString() {
    return "LoraAdapter(r="
        + config.rank()
        + ", alpha="
        + config.alpha()
        + ", targets="
        + config.targets()
        + ", modules="
        + pairs.size()
        + ")";
  }

  static String aName(String module) {
    return PREFIX + module + A_SUFFIX;
  }

  static String bName(String module) {
    return PREFIX + module + B_SUFFIX;
  }

  /** The HF module a PEFT tensor name belongs to, or null when the name is not an A or B. */
  static String moduleOf(String tensorName) {
    for (String suffix : new String[] {A_SUFFIX, B_SUFFIX}) {
      if (tensorName.startsWith(PREFIX) && tensorName.endsWith(suffix)) {
        return tensorName.substring(PREFIX.length(), tensorName.length() - suffix.length());
      }
    }
    return null;
  }

  private static Parameter parameter(NDManager manager, String name, long[] shape) {
    NDArray array = manager.zeros(new Shape(shape));
    array.setRequiresGradient(true);
    Parameter p = Parameter.builder().setName(name).setType(Parameter.Type.WEIGHT).build();
    p.setArray(array);
    return p;
  }

  static String shape(long[] shape) {
    return Arrays.toString(shape);
  }
}

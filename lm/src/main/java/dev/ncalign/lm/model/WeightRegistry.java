package dev.ncalign.lm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Creates the model's parameters under their Hugging Face tensor names, in the model's NDManager.
 * Arrays start at zero (weights are always loaded afterwards) and require gradients so the learner
 * can train them; inference turns gradient recording off instead (see {@link NoGrad}).
 */
final class WeightRegistry {

  private final NDManager manager;
  private final DataType dtype;
  private final Map<String, Parameter> parameters = new LinkedHashMap<>();

  WeightRegistry(NDManager manager, DataType dtype) {
    this.manager = manager;
    this.dtype = dtype;
  }

  Parameter add(String name, long... shape) {
    NDArray array = manager.zeros(new Shape(shape), dtype);
    array.setRequiresGradient(true);
    Parameter.Type type = name.endsWith(".bias") ? Parameter.Type.BIAS : Parameter.Type.WEIGHT;
    Parameter parameter = Parameter.builder().setName(name).setType(type).build();
    parameter.setArray(array);
    parameters.put(name, parameter);
    return parameter;
  }

  /** The type every weight is held as. */
  DataType dtype() {
    return dtype;
  }

  /** {@code value} as a 0-d tensor of the weights' type; see {@link #constant(float, DataType)}. */
  NDArray constant(float value) {
    return constant(value, dtype);
  }

  /**
   * {@code value} as a 0-d tensor in the model's NDManager, not a parameter: a layer's fixed
   * operand made once rather than per call. DJL turns a Java number operand into a new tensor on
   * every op (several times the cost of the op on a decode step's small arrays), and libtorch owns
   * this one's memory, so autograd may keep it (see {@link AutogradScalar}).
   */
  NDArray constant(float value, DataType type) {
    return manager.full(new Shape(), value, type);
  }

  /** {@code values} as a tensor of the weights' type and the given shape, owned by libtorch. */
  NDArray constant(float[] values, Shape shape) {
    // create() wraps a Java buffer that is freed once its NDArray is closed or collected; a
    // same-type toType() would alias it, so copy explicitly.
    try (NDArray overJavaBuffer = manager.create(values, shape)) {
      return dtype == DataType.FLOAT32
          ? overJavaBuffer.duplicate()
          : overJavaBuffer.toType(dtype, false);
    }
  }

  Map<String, Parameter> parameters() {
    return Collections.unmodifiableMap(parameters);
  }
}

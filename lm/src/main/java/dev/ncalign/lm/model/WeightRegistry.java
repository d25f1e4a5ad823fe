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

  Map<String, Parameter> parameters() {
    return Collections.unmodifiableMap(parameters);
  }
}

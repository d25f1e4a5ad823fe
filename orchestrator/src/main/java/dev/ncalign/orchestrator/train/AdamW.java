package dev.ncalign.orchestrator.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Parameter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW (decoupled weight decay) with global gradient-norm clipping.
 *
 * <p>Written out rather than taken from DJL because a resumed run must continue with the same
 * moments, and DJL's optimizers keep theirs private. A step whose gradient norm is not finite is
 * skipped, so one bad batch cannot poison the weights.
 */
public final class AdamW implements AutoCloseable {
  private static final float BETA1 = 0.9f;
  private static final float BETA2 = 0.999f;
  private static final float EPSILON = 1e-8f;

  private final Map<String, Parameter> parameters;
  private final NDManager manager;
  private final LearningRateSchedule schedule;
  private final float weightDecay;
  private final float maxGradNorm;
  private final Map<String, NDArray> firstMoment = new LinkedHashMap<>();
  private final Map<String, NDArray> secondMoment = new LinkedHashMap<>();
  private int steps;

  /**
   * @param parameters trainable parameters by name (their arrays must require gradients)
   * @param maxGradNorm clip the global L2 norm of all gradients to this; ≤ 0 turns clipping off
   */
  public AdamW(
      Map<String, Parameter> parameters,
      LearningRateSchedule schedule,
      float weightDecay,
      float maxGradNorm) {
    this.parameters = parameters;
    this.schedule = schedule;
    this.weightDecay = weightDecay;
    this.maxGradNorm = maxGradNorm;
    this.manager = parameters.values().iterator().next().getArray().getManager().newSubManager();
    for (Map.Entry<String, Parameter> e : parameters.entrySet()) {
      NDArray w = e.getValue().getArray();
      firstMoment.put(e.getKey(), manager.zeros(w.getShape(), w.getDataType()));
      secondMoment.put(e.getKey(), manager.zeros(w.getShape(), w.getDataType()));
    }
  }

  /** Optimizer steps taken so far (skipped ones not counted). */
  public int steps() {
    return steps;
  }

  /** The learning rate the next step will use. */
  public float learningRate() {
    return schedule.at(steps);
  }

  /**
   * Applies the accumulated gradients, then zeroes them.
   *
   * @return the global gradient norm before clipping (NaN or ∞ when the step was skipped)
   */
  public float step() {
    float norm = globalGradientNorm();
    if (Float.isFinite(norm)) {
      float clip = maxGradNorm > 0f && norm > maxGradNorm ? maxGradNorm / norm : 1f;
      float lr = schedule.at(steps);
      int t = ++steps;
      float correction1 = 1f - (float) Math.pow(BETA1, t);
      float correction2 = 1f - (float) Math.pow(BETA2, t);
      for (Map.Entry<String, Parameter> e : parameters.entrySet()) {
        update(e.getKey(), e.getValue().getArray(), clip, lr, correction1, correction2);
      }
    }
    zeroGradients();
    return norm;
  }

  private void update(
      String name, NDArray weight, float clip, float lr, float correction1, float correction2) {
    try (NDManager scope = manager.newSubManager()) {
      NDArray grad = ownedBy(scope, weight.getGradient()).mul(clip);
      NDArray m = firstMoment.get(name);
      NDArray v = secondMoment.get(name);
      m.muli(BETA1).addi(grad.mul(1f - BETA1));
      v.muli(BETA2).addi(grad.square().muli(1f - BETA2));
      NDArray denominator = ownedBy(scope, v.div(correction2)).sqrt().addi(EPSILON);
      NDArray adamStep = ownedBy(scope, m.div(correction1)).divi(denominator);
      weight.muli(1f - lr * weightDecay);
      weight.subi(adamStep.muli(lr));
    }
  }

  private float globalGradientNorm() {
    double sumSquares = 0;
    for (Parameter p : parameters.values()) {
      try (NDManager scope = manager.newSubManager()) {
        sumSquares += ownedBy(scope, p.getArray().getGradient()).square().sum().getFloat();
      }
    }
    return (float) Math.sqrt(sumSquares);
  }

  /** Sets every gradient to zero (each step ends with this). */
  void zeroGradients() {
    for (Parameter p : parameters.values()) {
      try (NDManager scope = manager.newSubManager()) {
        // set() rather than muli(0): a NaN gradient times 0 stays NaN.
        ownedBy(scope, p.getArray().getGradient()).set(new NDIndex("..."), 0f);
      }
    }
  }

  /**
   * Hands {@code array} to {@code scope}: results of ops on a moment (and each getGradient()
   * handle) would otherwise live in the optimizer's long-lived manager and leak once per step.
   */
  private static NDArray ownedBy(NDManager scope, NDArray array) {
    array.attach(scope);
    return array;
  }

  /** Writes the step count and both moments (safetensors), so {@link #load} continues exactly. */
  public void save(Path file) throws IOException {
    try (NDManager scope = manager.newSubManager();
        OutputStream out = Files.newOutputStream(file)) {
      NDList state = new NDList();
      for (String name : parameters.keySet()) {
        state.add(named(firstMoment.get(name), "m." + name));
        state.add(named(secondMoment.get(name), "v." + name));
      }
      state.add(named(scope.create(new int[] {steps}), "steps"));
      state.encode(out, NDList.Encoding.SAFETENSORS);
    }
  }

  /** Restores what {@link #save} wrote; every moment must match its parameter's shape. */
  public void load(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file);
        NDManager scope = manager.newSubManager()) {
      NDList state = NDList.decode(scope, in);
      for (String name : parameters.keySet()) {
        copyInto(state, "m." + name, firstMoment.get(name));
        copyInto(state, "v." + name, secondMoment.get(name));
      }
      steps = state.get("steps").toIntArray()[0];
    }
  }

  private static void copyInto(NDList state, String name, NDArray target) {
    NDArray saved = state.get(name);
    if (saved == null || !saved.getShape().equals(target.getShape())) {
      throw new IllegalArgumentException(
          "optimizer state has no tensor " + name + " of shape " + target.getShape());
    }
    target.set(new NDIndex("..."), saved);
  }

  private static NDArray named(NDArray array, String name) {
    array.setName(name);
    return array;
  }

  @Override
  public void close() {
    manager.close();
  }
}

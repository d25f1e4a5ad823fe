package dev.ncalign.lm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import java.nio.ByteBuffer;
import java.util.function.Function;

/** Overwrites a weight array in place with new values: a stored tensor's, or a Java array's. */
public final class WeightArrays {

  private WeightArrays() {}

  /**
   * Overwrites {@code target} (float32 or float16) with the tensor's values, converting the stored
   * dtype; the shape was checked by the caller.
   */
  public static void copyInto(NDArray target, Safetensors.TensorInfo info, ByteBuffer data) {
    overwrite(
        target,
        scratch ->
            info.weightDType() == WeightDType.F16
                ? scratch.create(direct(data), target.getShape(), DataType.FLOAT16)
                : scratch.create(Safetensors.toFloats(info, data), target.getShape()));
  }

  /**
   * Overwrites {@code target} (float32 or float16) with {@code values}, row-major, one per element:
   * the way to set a weight from Java, instead of {@code NDArray.set(Buffer)}.
   *
   * @throws IllegalArgumentException if the count does not match the target's size
   */
  public static void copyInto(NDArray target, float[] values) {
    if (values.length != target.size()) {
      throw new IllegalArgumentException(
          values.length + " values for an array of shape " + target.getShape());
    }
    overwrite(target, scratch -> scratch.create(values, target.getShape()));
  }

  /**
   * Builds the new value in a scratch manager, casts it on the device and copies it in place, never
   * through {@code NDArray.set(Buffer)}: that call makes the weight alias a Java buffer and goes
   * through libtorch's deprecated AutoNonVariableTypeMode (a warning that it may give "silent wrong
   * result"). No grad: an in-place copy into a leaf that requires gradients is refused while
   * recording.
   */
  private static void overwrite(NDArray target, Function<NDManager, NDArray> value) {
    try (NoGrad ignored = NoGrad.enter();
        NDManager scratch = target.getManager().newSubManager()) {
      target.set(new NDIndex("..."), value.apply(scratch).toType(target.getDataType(), false));
    }
  }

  /** DJL reads native-order direct buffers; x86 and ARM are little-endian like safetensors. */
  private static ByteBuffer direct(ByteBuffer data) {
    if (data.isDirect()) {
      return data;
    }
    ByteBuffer copy = ByteBuffer.allocateDirect(data.remaining());
    copy.put(data.duplicate());
    return copy.flip();
  }
}

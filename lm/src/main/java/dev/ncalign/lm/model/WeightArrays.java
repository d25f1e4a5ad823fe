package dev.ncalign.lm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;

/**
 * Copies values into weight arrays without {@code NDArray.set(Buffer)}: that call makes the weight
 * alias a Java buffer and goes through libtorch's deprecated AutoNonVariableTypeMode (a warning on
 * every start that it may give "silent wrong result"). Values are built in a scratch manager, cast
 * on the device and copied in place, with gradients off (an in-place copy into a leaf that requires
 * gradients is refused while recording).
 */
public final class WeightArrays {

  private WeightArrays() {}

  /**
   * Overwrites {@code target} (float32 or float16) with the tensor's values, converting the stored
   * dtype; the shape was checked by the caller.
   */
  public static void copyInto(NDArray target, Safetensors.TensorInfo info, ByteBuffer data) {
    try (NoGrad ignored = NoGrad.enter();
        NDManager scratch = target.getManager().newSubManager()) {
      Shape shape = target.getShape();
      NDArray value =
          info.weightDType() == WeightDType.F16
              ? scratch.create(direct(data), shape, DataType.FLOAT16)
              : scratch.create(Safetensors.toFloats(info, data), shape);
      target.set(new NDIndex("..."), value.toType(target.getDataType(), false));
    }
  }

  /** Overwrites {@code target} with {@code values}, one per element in row-major order. */
  public static void copyInto(NDArray target, FloatBuffer values) {
    try (NoGrad ignored = NoGrad.enter();
        NDManager scratch = target.getManager().newSubManager()) {
      NDArray value = scratch.create(values, target.getShape());
      target.set(new NDIndex("..."), value.toType(target.getDataType(), false));
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

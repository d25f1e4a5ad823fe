package dev.ncalign.lm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;

/** Copies one stored tensor (safetensors bytes of any supported dtype) into a weight array. */
final class WeightArrays {

  private WeightArrays() {}

  /**
   * Overwrites {@code target} (float32 or float16) with the tensor's values, converting the stored
   * dtype; the shape was checked by the caller.
   */
  static void copyInto(NDArray target, Safetensors.TensorInfo info, ByteBuffer data) {
    // Built in a scratch manager, cast on the device and copied in place, never
    // NDArray.set(Buffer):
    // that call makes the weight alias a Java buffer and goes through libtorch's deprecated
    // AutoNonVariableTypeMode (a warning on every start that it may give "silent wrong result").
    // No grad: an in-place copy into a leaf that requires gradients is refused while recording.
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

package dev.ncalign.lm.model;

import ai.djl.ndarray.types.DataType;
import java.nio.ByteBuffer;
import java.util.Locale;

/**
 * The floating-point formats weights are stored in: safetensors dtype names ({@code F32}, {@code
 * BF16}, {@code F16}), their {@code torch_dtype} spelling in {@code config.json}, and the
 * little-endian encoding of one element. Conversions to narrower formats round to nearest even,
 * like {@code tensor.to(dtype)} in PyTorch.
 */
public enum WeightDType {
  F32("F32", "float32", 4),
  BF16("BF16", "bfloat16", 2),
  F16("F16", "float16", 2);

  private final String safetensorsName;
  private final String torchName;
  private final int bytes;

  WeightDType(String safetensorsName, String torchName, int bytes) {
    this.safetensorsName = safetensorsName;
    this.torchName = torchName;
    this.bytes = bytes;
  }

  /** The safetensors header spelling, e.g. {@code BF16}. */
  public String safetensorsName() {
    return safetensorsName;
  }

  /** The {@code torch_dtype} spelling, e.g. {@code bfloat16}. */
  public String torchName() {
    return torchName;
  }

  /** Bytes per element. */
  public int bytes() {
    return bytes;
  }

  /**
   * The DJL data type arrays of this format are held in. DJL 0.36's PyTorch engine aborts the
   * process on a bfloat16 array, so BF16 weights are held as float32 (exact: every bfloat16 is a
   * float32).
   */
  public DataType arrayType() {
    return this == F16 ? DataType.FLOAT16 : DataType.FLOAT32;
  }

  /** Parses a safetensors dtype name; null when it is not a floating-point format read here. */
  public static WeightDType ofSafetensors(String name) {
    for (WeightDType type : values()) {
      if (type.safetensorsName.equals(name)) {
        return type;
      }
    }
    return null;
  }

  /**
   * Parses a {@code torch_dtype} / command-line spelling ({@code float32}, {@code bfloat16}, {@code
   * float16}; {@code fp32}, {@code bf16}, {@code fp16} and the safetensors names too).
   *
   * @throws IllegalArgumentException naming the accepted values
   */
  public static WeightDType parse(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    for (WeightDType type : values()) {
      if (type.torchName.equals(n) || type.safetensorsName.toLowerCase(Locale.ROOT).equals(n)) {
        return type;
      }
    }
    return switch (n) {
      case "fp32", "float" -> F32;
      case "fp16", "half" -> F16;
      default ->
          throw new IllegalArgumentException(
              "unsupported dtype '" + name + "'; expected float32, bfloat16 or float16");
    };
  }

  /** Appends {@code value} in this format, little-endian, at the buffer's position. */
  public void put(ByteBuffer out, float value) {
    switch (this) {
      case F32 -> out.putFloat(value);
      case BF16 -> out.putShort(floatToBfloat16(value));
      case F16 -> out.putShort(floatToHalf(value));
    }
  }

  /** Reads one element at {@code index} (in elements) of a little-endian buffer, as a float. */
  public float get(ByteBuffer in, int index) {
    return switch (this) {
      case F32 -> in.getFloat(4 * index);
      case BF16 -> Float.intBitsToFloat((in.getShort(2 * index) & 0xffff) << 16);
      case F16 -> halfToFloat(in.getShort(2 * index));
    };
  }

  /** float32 to bfloat16 bits, round to nearest even; NaN stays a quiet NaN. */
  static short floatToBfloat16(float value) {
    int bits = Float.floatToRawIntBits(value);
    if (Float.isNaN(value)) {
      return (short) ((bits >>> 16) | 0x40);
    }
    int roundingBias = 0x7fff + ((bits >>> 16) & 1);
    return (short) ((bits + roundingBias) >>> 16);
  }

  /** float32 to IEEE 754 binary16 bits, round to nearest even (Java 20's Float.floatToFloat16). */
  static short floatToHalf(float value) {
    int bits = Float.floatToRawIntBits(value);
    int sign = (bits >>> 16) & 0x8000;
    if (Float.isNaN(value)) {
      return (short) (sign | 0x7e00);
    }
    float abs = Math.abs(value);
    if (abs >= 65520f) {
      // 65520 and above round to infinity in binary16.
      return (short) (sign | 0x7c00);
    }
    if (abs < 0x1p-14f) {
      // Subnormal or zero: the value in units of 2^-24, rounded to nearest even by Math.rint.
      return (short) (sign | (int) Math.rint(abs * 0x1p24f));
    }
    int exponent = ((bits >>> 23) & 0xff) - 127 + 15;
    int mantissa = bits & 0x7fffff;
    int half = (exponent << 10) | (mantissa >>> 13);
    int rest = mantissa & 0x1fff;
    // Round to nearest even on the 13 dropped bits; a carry into the exponent is still right.
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1) == 1)) {
      half++;
    }
    return (short) (sign | half);
  }

  /** IEEE 754 binary16 bits to float (exact: every half value is a float). */
  static float halfToFloat(short half) {
    int sign = (half & 0x8000) << 16;
    int exponent = (half >>> 10) & 0x1f;
    int mantissa = half & 0x3ff;
    if (exponent == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
    }
    if (exponent == 0) {
      // Subnormal (or zero): value = mantissa * 2^-24.
      float magnitude = mantissa * 0x1p-24f;
      return sign == 0 ? magnitude : -magnitude;
    }
    return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  }
}

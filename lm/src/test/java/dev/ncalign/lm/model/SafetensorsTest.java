package dev.ncalign.lm.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SafetensorsTest {

  @Test
  void f32RoundTripKeepsNamesShapesAndValues() {
    Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
    tensors.put(
        "b.weight",
        new Safetensors.Tensor(new long[] {2, 3}, new float[] {1, -2, 3.5f, 0, 1e-8f, -7}));
    tensors.put("a.bias", new Safetensors.Tensor(new long[] {1}, new float[] {42}));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Safetensors.write(out, tensors);
    byte[] bytes = out.toByteArray();
    long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertEquals(0, headerLength % 8, "header padded to 8 bytes");

    Map<String, float[]> read = readAll(bytes);
    assertEquals(2, read.size());
    assertArrayEquals(tensors.get("b.weight").data(), read.get("b.weight"));
    assertArrayEquals(new float[] {42}, read.get("a.bias"));
    assertArrayEquals(
        new long[] {2, 3},
        new Safetensors.Reader(new ByteArrayInputStream(bytes)).header().get("b.weight").shape());
  }

  @Test
  void readsHalfAndBfloat16AsFloat32() {
    // F16: 1.0 = 0x3C00, -2.0 = 0xC000, 0.5 = 0x3800, smallest subnormal 0x0001 = 2^-24.
    // BF16: the upper 16 bits of a float32: 1.5 = 0x3FC0, -0.25 = 0xBE80.
    byte[] data =
        ByteBuffer.allocate(12)
            .order(ByteOrder.LITTLE_ENDIAN)
            .putShort((short) 0x3C00)
            .putShort((short) 0xC000)
            .putShort((short) 0x3800)
            .putShort((short) 0x0001)
            .putShort((short) 0x3FC0)
            .putShort((short) 0xBE80)
            .array();
    String header =
        "{\"h\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]},"
            + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[8,12]}}";
    Map<String, float[]> read = readAll(file(header, data));
    assertArrayEquals(new float[] {1f, -2f, 0.5f, 0x1p-24f}, read.get("h"));
    assertArrayEquals(new float[] {1.5f, -0.25f}, read.get("b"));
  }

  @Test
  void truncatedDataNamesTheTensor() {
    String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> readAll(file(header, new byte[10])));
    assertTrue(e.getMessage().contains("'w'"), e.getMessage());
  }

  @Test
  void rejectsUnsupportedDtypeAndInconsistentOffsets() {
    String int64 = "{\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}";
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> readAll(file(int64, new byte[8])))
            .getMessage()
            .contains("unsupported dtype I64"));
    String wrongSize = "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}";
    assertThrows(IllegalArgumentException.class, () -> readAll(file(wrongSize, new byte[8])));
  }

  private static byte[] file(String header, byte[] data) {
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(8 + json.length + data.length)
        .order(ByteOrder.LITTLE_ENDIAN)
        .putLong(json.length)
        .put(json)
        .put(data)
        .array();
  }

  private static Map<String, float[]> readAll(byte[] bytes) {
    Map<String, float[]> out = new LinkedHashMap<>();
    new Safetensors.Reader(new ByteArrayInputStream(bytes))
        .forEachTensor(
            (info, data) -> {
              FloatBuffer buffer = Safetensors.toFloats(info, data);
              float[] values = new float[buffer.remaining()];
              buffer.get(values);
              out.put(info.name(), values);
            });
    return out;
  }

  @Test
  void halfConversionCoversInfinityAndNegativeZero() {
    assertEquals(Float.POSITIVE_INFINITY, Safetensors.halfToFloat((short) 0x7C00));
    assertEquals(
        Float.floatToIntBits(-0f), Float.floatToIntBits(Safetensors.halfToFloat((short) 0x8000)));
    assertTrue(Float.isNaN(Safetensors.halfToFloat((short) 0x7E00)));
    assertEquals(65504f, Safetensors.halfToFloat((short) 0x7BFF));
    assertArrayEquals(
        new float[] {1}, Arrays.copyOf(new float[] {Safetensors.halfToFloat((short) 0x3C00)}, 1));
  }
}

package dev.ncalign.lm.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The streaming writer in every dtype, and random-access reads of files over 2 GiB. */
class SafetensorsStreamingTest {

  @Test
  void bf16AndF16RoundToNearestEven() {
    // 1 + 2^-8 is halfway between two bfloat16 values: ties go to the even one (1.0).
    assertEquals(1f, ModelFixtures.rounded(1f + 0x1p-8f, WeightDType.BF16));
    assertEquals(1f + 0x1p-6f, ModelFixtures.rounded(1f + 0x1p-6f + 0x1p-8f, WeightDType.BF16));
    assertEquals(1f + 0x1p-7f, ModelFixtures.rounded(1f + 0x1p-7f + 0x1p-9f, WeightDType.BF16));
    // float16: 1 + 2^-11 is a tie (to 1.0); 65519 rounds down to 65504, 65520 to infinity.
    assertEquals(1f, ModelFixtures.rounded(1f + 0x1p-11f, WeightDType.F16));
    assertEquals(1f + 0x1p-10f, ModelFixtures.rounded(1f + 0x1p-10f + 0x1p-12f, WeightDType.F16));
    assertEquals(65504f, ModelFixtures.rounded(65519f, WeightDType.F16));
    assertEquals(Float.POSITIVE_INFINITY, ModelFixtures.rounded(65520f, WeightDType.F16));
    assertEquals(0x1p-24f, ModelFixtures.rounded(0x1p-24f, WeightDType.F16), "subnormal");
    assertEquals(0f, ModelFixtures.rounded(0x1p-26f, WeightDType.F16));
    assertTrue(Float.isNaN(ModelFixtures.rounded(Float.NaN, WeightDType.BF16)));
    assertTrue(Float.isNaN(ModelFixtures.rounded(Float.NaN, WeightDType.F16)));
    assertEquals(-2.5f, ModelFixtures.rounded(-2.5f, WeightDType.F16));
  }

  @Test
  void aModelStreamsInEveryDtypeWithAnAnnouncedSize() {
    try (CausalLm lm = TestModels.loadTiny()) {
      TestModels.randomize(lm, 4, 0.3);
      for (WeightDType dtype : WeightDType.values()) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        lm.writeSafetensors(out, dtype);
        assertEquals(lm.safetensorsSize(dtype), out.size(), dtype.name());
        try (CausalLm standby = lm.newStandby()) {
          Safetensors.Reader reader =
              new Safetensors.Reader(new ByteArrayInputStream(out.toByteArray()));
          reader
              .header()
              .values()
              .forEach(info -> assertEquals(dtype.safetensorsName(), info.dtype()));
          standby.loadWeights(reader);
          lm.parameters()
              .forEach(
                  (name, p) -> {
                    float[] expected = p.getArray().toFloatArray();
                    for (int i = 0; i < expected.length; i++) {
                      expected[i] = ModelFixtures.rounded(expected[i], dtype);
                    }
                    assertArrayEquals(
                        expected, standby.parameters().get(name).getArray().toFloatArray(), name);
                  });
        }
      }
    }
  }

  @Test
  void readsATensorBeyondTwoGibibytesOfASparseFile() throws Exception {
    // Two 1 GiB F32 tensors of zeros (a sparse hole on disk), then a small tensor at offset 2 GiB.
    long gib = 1L << 30;
    String header =
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[%d],\"data_offsets\":[0,%d]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[%d],\"data_offsets\":[%d,%d]},"
                + "\"tail\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[%d,%d]}}")
            .formatted(gib / 4, gib, gib / 4, gib, 2 * gib, 2 * gib, 2 * gib + 6);
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    Path file = TestModels.tempDir("big").resolve("big.safetensors");
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).array());
      raf.write(json);
      raf.seek(8 + json.length + 2 * gib);
      // bfloat16 1.5, -0.25, 2.0
      raf.write(new byte[] {(byte) 0xC0, 0x3F, (byte) 0x80, (byte) 0xBE, 0x00, 0x40});
    }
    try (SafetensorsFile st = SafetensorsFile.open(file)) {
      Safetensors.TensorInfo tail = st.header().get("tail");
      assertEquals(2 * gib, tail.begin());
      float[] values = new float[3];
      Safetensors.toFloats(tail, st.read(tail)).get(values);
      assertArrayEquals(new float[] {1.5f, -0.25f, 2f}, values);
      assertEquals(
          0f, Safetensors.toFloats(st.header().get("b"), st.read(st.header().get("b"))).get(12345));
    } finally {
      java.nio.file.Files.delete(file);
    }
  }

  @Test
  void aTruncatedFileIsRefusedOnOpen() throws Exception {
    String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    Path file = TestModels.tempDir("short").resolve("short.safetensors");
    java.nio.file.Files.write(
        file,
        ByteBuffer.allocate(8 + json.length + 10)
            .order(ByteOrder.LITTLE_ENDIAN)
            .putLong(json.length)
            .put(json)
            .array());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> SafetensorsFile.open(file));
    assertTrue(e.getMessage().startsWith("truncated"), e.getMessage());
  }

  @Test
  void checkpointOfAnF32BaseStaysF32() throws Exception {
    try (CausalLm lm = TestModels.loadTiny()) {
      assertEquals(WeightDType.F32, lm.baseDType());
      Path saved = TestModels.tempDir("f32-saved");
      lm.save(saved);
      try (SafetensorsFile st = SafetensorsFile.open(saved.resolve("model.safetensors"));
          CausalLm reloaded = CausalLm.load(saved, Device.cpu())) {
        st.header().values().forEach(info -> assertEquals("F32", info.dtype()));
        assertEquals(lm.parameterCount(), reloaded.parameterCount());
      }
    }
  }
}

package dev.ncalign.lm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Writes safetensors as a stream: the header first (computed from the shapes and the dtype alone),
 * then each tensor's bytes, converted to the chosen dtype through a small buffer. At most one
 * tensor's float32 values are on the heap at a time, never the whole file, so the size of the file
 * is bounded by the disk or the network only. Names are sorted and the header is padded to 8 bytes,
 * as HF's writer does; {@link #byteSize} tells the exact length in advance (PushWeights announces
 * it in its header).
 */
public final class SafetensorsWriter {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Bytes converted per write call. */
  /** The most bytes one write hands the output stream: tensors go out in pieces of this size. */
  public static final int CHUNK_BYTES = 1 << 20;

  private SafetensorsWriter() {}

  /** Exact length of the file {@link #write(OutputStream, Map, WeightDType)} produces. */
  public static long byteSize(Map<String, NDArray> tensors, WeightDType dtype) {
    Map<String, long[]> shapes = shapesOf(tensors);
    return 8 + header(shapes, dtype).length + dataBytes(shapes, dtype);
  }

  /** Writes {@code tensors} (any float DJL arrays) in {@code dtype}, one tensor at a time. */
  public static void write(OutputStream out, Map<String, NDArray> tensors, WeightDType dtype) {
    writeValues(out, shapesOf(tensors), dtype, name -> float32Values(tensors.get(name)));
  }

  /**
   * Writes tensors named by {@code shapes} in {@code dtype}, fetching each one's row-major float32
   * values only when it is written.
   */
  public static void writeValues(
      OutputStream out,
      Map<String, long[]> shapes,
      WeightDType dtype,
      Function<String, float[]> values) {
    Map<String, long[]> sorted = new TreeMap<>(shapes);
    byte[] header = header(sorted, dtype);
    try {
      out.write(
          ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
      out.write(header);
      ByteBuffer chunk = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
      for (Map.Entry<String, long[]> e : sorted.entrySet()) {
        float[] data = values.apply(e.getKey());
        if (data.length != elements(e.getValue())) {
          throw new IllegalArgumentException(
              "tensor '"
                  + e.getKey()
                  + "' has "
                  + data.length
                  + " values for shape "
                  + Arrays.toString(e.getValue()));
        }
        for (float value : data) {
          if (chunk.remaining() < dtype.bytes()) {
            out.write(chunk.array(), 0, chunk.position());
            chunk.clear();
          }
          dtype.put(chunk, value);
        }
      }
      out.write(chunk.array(), 0, chunk.position());
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The JSON header, padded with spaces to a multiple of 8 so the data is aligned. */
  private static byte[] header(Map<String, long[]> shapes, WeightDType dtype) {
    ObjectNode header = JSON.createObjectNode();
    header.putObject("__metadata__").put("format", "pt");
    long offset = 0;
    for (Map.Entry<String, long[]> e : new TreeMap<>(shapes).entrySet()) {
      ObjectNode entry = header.putObject(e.getKey());
      entry.put("dtype", dtype.safetensorsName());
      ArrayNode shape = entry.putArray("shape");
      Arrays.stream(e.getValue()).forEach(shape::add);
      long end = offset + dtype.bytes() * elements(e.getValue());
      entry.putArray("data_offsets").add(offset).add(end);
      offset = end;
    }
    try {
      byte[] json = JSON.writeValueAsBytes(header);
      int padded = (json.length + 7) / 8 * 8;
      byte[] bytes = Arrays.copyOf(json, padded);
      Arrays.fill(bytes, json.length, padded, (byte) ' ');
      return bytes;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static long dataBytes(Map<String, long[]> shapes, WeightDType dtype) {
    return shapes.values().stream().mapToLong(s -> dtype.bytes() * elements(s)).sum();
  }

  private static long elements(long[] shape) {
    return Arrays.stream(shape).reduce(1, Math::multiplyExact);
  }

  private static Map<String, long[]> shapesOf(Map<String, NDArray> tensors) {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    tensors.forEach((name, array) -> shapes.put(name, array.getShape().getShape()));
    return shapes;
  }

  /** A copy of the array's values as float32 (a float16 array is widened exactly). */
  private static float[] float32Values(NDArray array) {
    if (array.getDataType() == DataType.FLOAT32) {
      return array.toFloatArray();
    }
    try (NDArray wide = array.toType(DataType.FLOAT32, true)) {
      return wide.toFloatArray();
    }
  }
}

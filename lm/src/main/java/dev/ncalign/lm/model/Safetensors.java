package dev.ncalign.lm.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header {@code {name:
 * {dtype, shape, data_offsets: [begin, end]}}}, then raw little-endian tensor bytes. Reads F32, F16
 * and BF16 (always handing out float32); writes F32 with names sorted, like HF. Streaming: the
 * header can be checked before any tensor byte is read, so a bad file is rejected before memory is
 * allocated for it.
 */
public final class Safetensors {

  /** Largest JSON header accepted; a real header is a few hundred kB at most. */
  private static final long MAX_HEADER_BYTES = 100L << 20;

  private static final ObjectMapper JSON = new ObjectMapper();

  private Safetensors() {}

  /** One header entry: where a tensor's bytes are, relative to the end of the header. */
  public record TensorInfo(String name, String dtype, long[] shape, long begin, long end) {

    /** Number of elements. */
    public long elementCount() {
      return Arrays.stream(shape).reduce(1, Math::multiplyExact);
    }

    private int bytesPerElement() {
      return switch (dtype) {
        case "F32" -> 4;
        case "F16", "BF16" -> 2;
        default ->
            throw new IllegalArgumentException(
                "tensor '" + name + "': unsupported dtype " + dtype + " (F32, F16, BF16 only)");
      };
    }
  }

  /** Reads a header, then tensors one at a time in file order. */
  public static final class Reader {
    private final InputStream in;
    private final Map<String, TensorInfo> header;

    /** Reads and validates the header (dtypes, offsets consistent with shapes). */
    public Reader(InputStream in) {
      this.in = in;
      try {
        byte[] lengthBytes = in.readNBytes(8);
        if (lengthBytes.length < 8) {
          throw new IllegalArgumentException("truncated safetensors: no header length");
        }
        long length = ByteBuffer.wrap(lengthBytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (length <= 0 || length > MAX_HEADER_BYTES) {
          throw new IllegalArgumentException(
              "safetensors header length " + length + " out of range");
        }
        byte[] json = in.readNBytes((int) length);
        if (json.length < length) {
          throw new IllegalArgumentException("truncated safetensors header");
        }
        header = parseHeader(JSON.readTree(json));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** Tensor entries by name, in file order. */
    public Map<String, TensorInfo> header() {
      return header;
    }

    /** Reads every tensor in file order and hands it to {@code sink} as float32 values. */
    public void forEachTensor(BiConsumer<TensorInfo, FloatBuffer> sink) {
      long position = 0;
      try {
        for (TensorInfo info : header.values()) {
          try {
            in.skipNBytes(info.begin() - position);
          } catch (EOFException e) {
            throw new IllegalArgumentException(
                "truncated safetensors data before tensor '" + info.name() + "'");
          }
          long length = info.end() - info.begin();
          if (length > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("tensor '" + info.name() + "' is larger than 2 GiB");
          }
          int size = (int) length;
          byte[] bytes = in.readNBytes(size);
          if (bytes.length < size) {
            throw new IllegalArgumentException(
                "truncated safetensors data in tensor '" + info.name() + "'");
          }
          sink.accept(info, toFloats(info.dtype(), bytes));
          position = info.end();
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /**
   * Writes float32 tensors; {@code tensors} maps HF name to a row-major float array and its shape.
   */
  public static void write(OutputStream out, Map<String, Tensor> tensors) {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    tensors.forEach((name, tensor) -> shapes.put(name, tensor.shape()));
    write(out, shapes, name -> tensors.get(name).data());
  }

  /**
   * Writes float32 tensors named by {@code shapes}, fetching each one's row-major values only when
   * it is written, so at most one tensor is copied to the heap at a time.
   */
  public static void write(
      OutputStream out, Map<String, long[]> shapes, Function<String, float[]> values) {
    Map<String, long[]> sorted = new TreeMap<>(shapes);
    ObjectNode header = JSON.createObjectNode();
    header.putObject("__metadata__").put("format", "pt");
    long offset = 0;
    for (Map.Entry<String, long[]> e : sorted.entrySet()) {
      ObjectNode entry = header.putObject(e.getKey());
      entry.put("dtype", "F32");
      ArrayNode shape = entry.putArray("shape");
      Arrays.stream(e.getValue()).forEach(shape::add);
      long end = offset + 4 * Arrays.stream(e.getValue()).reduce(1, Math::multiplyExact);
      entry.putArray("data_offsets").add(offset).add(end);
      offset = end;
    }
    try {
      byte[] json = JSON.writeValueAsBytes(header);
      // Pad the header with spaces to a multiple of 8 so the data is aligned, as the HF writer
      // does.
      int padded = (json.length + 7) / 8 * 8;
      byte[] headerBytes = Arrays.copyOf(json, padded);
      Arrays.fill(headerBytes, json.length, padded, (byte) ' ');
      out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
      out.write(headerBytes);
      for (String name : sorted.keySet()) {
        float[] data = values.apply(name);
        ByteBuffer bytes = ByteBuffer.allocate(4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(data);
        out.write(bytes.array());
      }
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A float32 tensor on the Java heap. */
  public record Tensor(long[] shape, float[] data) {}

  private static Map<String, TensorInfo> parseHeader(JsonNode json) {
    List<TensorInfo> infos = new ArrayList<>();
    Iterator<Map.Entry<String, JsonNode>> fields = json.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> field = fields.next();
      if ("__metadata__".equals(field.getKey())) {
        continue;
      }
      String name = field.getKey();
      JsonNode node = field.getValue();
      JsonNode offsets = node.path("data_offsets");
      JsonNode shapeNode = node.path("shape");
      if (!offsets.isArray() || offsets.size() != 2 || !shapeNode.isArray()) {
        throw new IllegalArgumentException("tensor '" + name + "': malformed header entry");
      }
      long[] shape = new long[shapeNode.size()];
      for (int i = 0; i < shape.length; i++) {
        shape[i] = shapeNode.get(i).asLong();
      }
      TensorInfo info =
          new TensorInfo(
              name,
              node.path("dtype").asText(),
              shape,
              offsets.get(0).asLong(),
              offsets.get(1).asLong());
      if (info.begin() < 0
          || info.end() - info.begin() != info.elementCount() * info.bytesPerElement()) {
        throw new IllegalArgumentException(
            "tensor '" + name + "': data_offsets do not match its shape and dtype");
      }
      infos.add(info);
    }
    infos.sort(Comparator.comparingLong(TensorInfo::begin));
    Map<String, TensorInfo> byName = new LinkedHashMap<>();
    long previousEnd = 0;
    for (TensorInfo info : infos) {
      if (info.begin() < previousEnd) {
        throw new IllegalArgumentException(
            "tensor '" + info.name() + "' overlaps the previous tensor");
      }
      previousEnd = info.end();
      byName.put(info.name(), info);
    }
    return byName;
  }

  private static FloatBuffer toFloats(String dtype, byte[] bytes) {
    ByteBuffer le = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if ("F32".equals(dtype)) {
      return le.asFloatBuffer();
    }
    float[] values = new float[bytes.length / 2];
    for (int i = 0; i < values.length; i++) {
      short bits = le.getShort(2 * i);
      values[i] =
          "BF16".equals(dtype) ? Float.intBitsToFloat((bits & 0xffff) << 16) : halfToFloat(bits);
    }
    return FloatBuffer.wrap(values);
  }

  /** IEEE 754 binary16 to float (exact: every half value is a float). */
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

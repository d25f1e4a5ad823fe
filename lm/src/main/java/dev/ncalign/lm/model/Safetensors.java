package dev.ncalign.lm.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.function.BiConsumer;

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header {@code {name:
 * {dtype, shape, data_offsets: [begin, end]}}}, then raw little-endian tensor bytes. F32, F16 and
 * BF16 are read; offsets are {@code long}, so files over 2 GiB work (one tensor must stay below 2
 * GiB). This class parses headers and reads a stream tensor by tensor ({@link Reader}); {@link
 * SafetensorsFile} reads files by random access and {@link SafetensorsWriter} writes.
 */
public final class Safetensors {

  /** Largest JSON header accepted; a real header is a few hundred kB at most. */
  static final long MAX_HEADER_BYTES = 100L << 20;

  private static final ObjectMapper JSON = new ObjectMapper();

  private Safetensors() {}

  /**
   * One header entry: where a tensor's bytes are, relative to the end of the header.
   *
   * @param source the file it comes from (for messages), or null for a stream
   */
  public record TensorInfo(
      String name, String dtype, long[] shape, long begin, long end, String source) {

    /** Number of elements. */
    public long elementCount() {
      return Arrays.stream(shape).reduce(1, Math::multiplyExact);
    }

    /** The element format. */
    public WeightDType weightDType() {
      WeightDType type = WeightDType.ofSafetensors(dtype);
      if (type == null) {
        throw new IllegalArgumentException(
            "tensor '" + name + "': unsupported dtype " + dtype + " (F32, F16, BF16 only)");
      }
      return type;
    }

    /** Bytes of data. */
    public long byteLength() {
      return end - begin;
    }
  }

  /** Tensors with their data, handed out one at a time. */
  public interface Source {

    /** Tensor entries by name. */
    Map<String, TensorInfo> header();

    /**
     * Hands every tensor's little-endian bytes to {@code sink}, one at a time; a buffer is valid
     * only during the call.
     */
    void forEachTensor(BiConsumer<TensorInfo, ByteBuffer> sink);
  }

  /** Reads a header, then tensors one at a time in file order, from a stream. */
  public static final class Reader implements Source {
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
        long length = headerLength(ByteBuffer.wrap(lengthBytes));
        byte[] json = in.readNBytes((int) length);
        if (json.length < length) {
          throw new IllegalArgumentException("truncated safetensors header");
        }
        header = parseHeader(json, null);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public Map<String, TensorInfo> header() {
      return header;
    }

    @Override
    public void forEachTensor(BiConsumer<TensorInfo, ByteBuffer> sink) {
      long position = 0;
      try {
        for (TensorInfo info : header.values()) {
          try {
            in.skipNBytes(info.begin() - position);
          } catch (EOFException e) {
            throw new IllegalArgumentException(
                "truncated safetensors data before tensor '" + info.name() + "'");
          }
          int size = checkedSize(info);
          byte[] bytes = in.readNBytes(size);
          if (bytes.length < size) {
            throw new IllegalArgumentException(
                "truncated safetensors data in tensor '" + info.name() + "'");
          }
          sink.accept(info, ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN));
          position = info.end();
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** A float32 tensor on the Java heap. */
  public record Tensor(long[] shape, float[] data) {}

  /** Writes float32 tensors from the heap (tests, small files); see {@link SafetensorsWriter}. */
  public static void write(OutputStream out, Map<String, Tensor> tensors) {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    tensors.forEach((name, tensor) -> shapes.put(name, tensor.shape()));
    SafetensorsWriter.writeValues(out, shapes, WeightDType.F32, name -> tensors.get(name).data());
  }

  /** A tensor's little-endian bytes as float32 values. */
  public static FloatBuffer toFloats(TensorInfo info, ByteBuffer bytes) {
    WeightDType type = info.weightDType();
    ByteBuffer le = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    if (type == WeightDType.F32) {
      return le.asFloatBuffer();
    }
    float[] values = new float[le.remaining() / type.bytes()];
    ByteBuffer view = le.slice().order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < values.length; i++) {
      values[i] = type.get(view, i);
    }
    return FloatBuffer.wrap(values);
  }

  /** IEEE 754 binary16 to float (exact: every half value is a float). */
  static float halfToFloat(short half) {
    return WeightDType.halfToFloat(half);
  }

  /** The header length from the first 8 bytes, checked against {@link #MAX_HEADER_BYTES}. */
  static long headerLength(ByteBuffer first8) {
    long length = first8.order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    if (length <= 0 || length > MAX_HEADER_BYTES) {
      throw new IllegalArgumentException("safetensors header length " + length + " out of range");
    }
    return length;
  }

  /** A tensor's byte length as an int, refusing tensors a Java buffer cannot hold. */
  static int checkedSize(TensorInfo info) {
    if (info.byteLength() > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "tensor '" + info.name() + "' is larger than 2 GiB, which one Java buffer cannot hold");
    }
    return (int) info.byteLength();
  }

  /** Parses and validates a JSON header; entries come back in data order. */
  static Map<String, TensorInfo> parseHeader(byte[] json, String source) throws IOException {
    JsonNode root = JSON.readTree(json);
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("safetensors header is not a JSON object");
    }
    List<TensorInfo> infos = new ArrayList<>();
    Iterator<Map.Entry<String, JsonNode>> fields = root.fields();
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
              offsets.get(1).asLong(),
              source);
      if (info.begin() < 0
          || info.byteLength() != info.elementCount() * info.weightDType().bytes()) {
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
}

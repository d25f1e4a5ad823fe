package dev.ncalign.lm.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ncalign.lm.model.Safetensors;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Rewrites a safetensors file as BF16 (round to nearest even), one tensor at a time, the dtype
 * Qwen2.5 checkpoints ship in; the benchmark loads what a user would download.
 */
final class Bf16Safetensors {

  private Bf16Safetensors() {}

  /** Converts {@code source} (any dtype {@link Safetensors} reads) into {@code target}. */
  static void convert(Path source, Path target) {
    try (InputStream in = new BufferedInputStream(Files.newInputStream(source), 1 << 20);
        OutputStream out = new BufferedOutputStream(Files.newOutputStream(target), 1 << 20)) {
      Safetensors.Reader reader = new Safetensors.Reader(in);
      writeHeader(reader, out);
      reader.forEachTensor((info, values) -> write(values, out));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot convert " + source + " to BF16", e);
    }
  }

  /** Header in the reader's (file) order, offsets for two bytes per element, padded to 8 bytes. */
  private static void writeHeader(Safetensors.Reader reader, OutputStream out) throws IOException {
    ObjectMapper json = new ObjectMapper();
    ObjectNode header = json.createObjectNode();
    header.putObject("__metadata__").put("format", "pt");
    long offset = 0;
    for (Safetensors.TensorInfo info : reader.header().values()) {
      ObjectNode entry = header.putObject(info.name());
      entry.put("dtype", "BF16");
      Arrays.stream(info.shape()).forEach(entry.withArray("shape")::add);
      long end = offset + 2 * info.elementCount();
      entry.putArray("data_offsets").add(offset).add(end);
      offset = end;
    }
    byte[] text = json.writeValueAsBytes(header);
    byte[] padded = Arrays.copyOf(text, (text.length + 7) / 8 * 8);
    Arrays.fill(padded, text.length, padded.length, (byte) ' ');
    out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded.length).array());
    out.write(padded);
  }

  private static void write(FloatBuffer values, OutputStream out) {
    ByteBuffer bytes = ByteBuffer.allocate(2 * values.remaining()).order(ByteOrder.LITTLE_ENDIAN);
    while (values.hasRemaining()) {
      bytes.putShort(toBf16(values.get()));
    }
    try {
      out.write(bytes.array());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The upper half of the float's bits, rounded to nearest even (finite values). */
  static short toBf16(float value) {
    int bits = Float.floatToRawIntBits(value);
    int roundingBias = 0x7fff + ((bits >>> 16) & 1);
    return (short) ((bits + roundingBias) >>> 16);
  }
}

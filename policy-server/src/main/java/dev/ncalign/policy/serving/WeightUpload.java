package dev.ncalign.policy.serving;

import dev.ncalign.lm.io.Sha256;
import dev.ncalign.policy.scheduling.SwapPriorityGate;
import dev.ncalign.proto.v1.WeightChunk;
import dev.ncalign.proto.v1.WeightHeader;
import dev.ncalign.serving.InvalidRequestException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.regex.Pattern;

/**
 * One PushWeights stream: a header, then data chunks spooled to a temporary file while the SHA-256
 * and the byte count are computed, so a multi-gigabyte push never sits in the heap. From a valid
 * header until {@link #close()} the upload holds swap priority ({@link SwapPriorityGate}): model
 * work pauses so receiving and loading get the CPU.
 */
final class WeightUpload implements AutoCloseable {

  private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");

  private final long maxBytes;
  private final SwapPriorityGate gate;
  private final MessageDigest sha256;
  private SwapPriorityGate.Hold priority;
  private long headerNanos;
  private long lastChunkNanos;
  private WeightHeader header;
  private Path file;
  private OutputStream out;
  private long received;

  WeightUpload(long maxBytes, SwapPriorityGate gate) {
    this.maxBytes = maxBytes;
    this.gate = gate;
    this.sha256 = Sha256.newDigest();
  }

  /**
   * Takes the next chunk; throws {@link InvalidRequestException} when the stream breaks the
   * protocol.
   */
  void accept(WeightChunk chunk) {
    switch (chunk.getChunkCase()) {
      case HEADER -> acceptHeader(chunk.getHeader());
      case DATA -> acceptData(chunk.getData().toByteArray());
      default -> throw new InvalidRequestException("chunk", "neither header nor data");
    }
  }

  /** The header, once received. */
  WeightHeader header() {
    return header;
  }

  /** Nanoseconds from the header to the last chunk. */
  long receiveNanos() {
    return lastChunkNanos - headerNanos;
  }

  /**
   * Checks the byte count and checksum and opens the received bytes for reading; from here the
   * upload holds swap priority until closed, however long the load takes.
   */
  InputStream verifiedData() {
    if (header == null) {
      throw new InvalidRequestException("header", "the stream carried no header");
    }
    priority.loading();
    if (received != header.getTotalBytes()) {
      throw new InvalidRequestException(
          "header.total_bytes",
          "expected "
              + header.getTotalBytes()
              + " bytes, received "
              + received
              + " (truncated stream?)");
    }
    String actual = Sha256.hex(sha256);
    if (!actual.equals(header.getSha256Hex())) {
      throw new InvalidRequestException(
          "header.sha256_hex", "checksum mismatch: data hashes to " + actual);
    }
    try {
      out.close();
      return new BufferedInputStream(Files.newInputStream(file), 1 << 20);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void acceptHeader(WeightHeader h) {
    if (header != null) {
      throw new InvalidRequestException("header", "sent twice");
    }
    if (!"safetensors".equals(h.getFormat())) {
      throw new InvalidRequestException(
          "header.format", "only \"safetensors\" is accepted, got \"" + h.getFormat() + "\"");
    }
    if (h.getTotalBytes() < 1 || h.getTotalBytes() > maxBytes) {
      throw new InvalidRequestException(
          "header.total_bytes", "must be in [1, " + maxBytes + "], got " + h.getTotalBytes());
    }
    if (!SHA256_HEX.matcher(h.getSha256Hex()).matches()) {
      throw new InvalidRequestException(
          "header.sha256_hex", "must be 64 lower-case hex characters");
    }
    if (h.getVersion() < 1) {
      throw new InvalidRequestException("header.version", "must be ≥ 1");
    }
    header = h;
    headerNanos = System.nanoTime();
    lastChunkNanos = headerNanos;
    priority = gate.hold();
    try {
      file = Files.createTempFile("ncalign-weights-", ".safetensors");
      out = Files.newOutputStream(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void acceptData(byte[] bytes) {
    if (header == null) {
      throw new InvalidRequestException("header", "must be the first chunk");
    }
    if (received + bytes.length > header.getTotalBytes()) {
      throw new InvalidRequestException(
          "data", "more bytes than header.total_bytes = " + header.getTotalBytes());
    }
    priority.received();
    lastChunkNanos = System.nanoTime();
    sha256.update(bytes);
    received += bytes.length;
    try {
      out.write(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Gives up swap priority and deletes the spooled file. */
  @Override
  public void close() {
    if (priority != null) {
      priority.close();
    }
    try {
      if (out != null) {
        out.close();
      }
      if (file != null) {
        Files.deleteIfExists(file);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

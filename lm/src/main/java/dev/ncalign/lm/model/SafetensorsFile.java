package dev.ncalign.lm.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * One safetensors file read by random access: the header on open, then each tensor memory-mapped on
 * its own at a {@code long} offset, so a file of any size is read without loading it whole. Several
 * files (the shards of one model) read as one {@link Safetensors.Source} through {@link
 * #union(List)}.
 */
public final class SafetensorsFile implements Safetensors.Source, AutoCloseable {

  private final Path path;
  private final FileChannel channel;
  private final long dataStart;
  private final Map<String, Safetensors.TensorInfo> header;

  private SafetensorsFile(Path path, FileChannel channel) throws IOException {
    this.path = path;
    this.channel = channel;
    ByteBuffer first8 = ByteBuffer.allocate(8);
    if (channel.read(first8, 0) < 8) {
      throw new IllegalArgumentException("truncated safetensors: no header length");
    }
    long length = Safetensors.headerLength(first8);
    if (8 + length > channel.size()) {
      throw new IllegalArgumentException("truncated safetensors header");
    }
    ByteBuffer json = ByteBuffer.allocate((int) length);
    channel.read(json, 8);
    dataStart = 8 + length;
    header = Safetensors.parseHeader(json.array(), path.getFileName().toString());
    long dataEnd = header.values().stream().mapToLong(Safetensors.TensorInfo::end).max().orElse(0);
    if (dataStart + dataEnd > channel.size()) {
      throw new IllegalArgumentException(
          "truncated: the header needs "
              + (dataStart + dataEnd)
              + " bytes, the file has "
              + channel.size());
    }
  }

  /**
   * Opens {@code path} and reads its header.
   *
   * @throws IllegalArgumentException when the file is not valid safetensors
   */
  public static SafetensorsFile open(Path path) {
    FileChannel channel;
    try {
      channel = FileChannel.open(path, StandardOpenOption.READ);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open " + path, e);
    }
    try {
      return new SafetensorsFile(path, channel);
    } catch (IOException e) {
      closeQuietly(channel);
      throw new UncheckedIOException("cannot read " + path, e);
    } catch (RuntimeException e) {
      closeQuietly(channel);
      throw e;
    }
  }

  /** The file. */
  public Path path() {
    return path;
  }

  @Override
  public Map<String, Safetensors.TensorInfo> header() {
    return header;
  }

  /** The bytes of one tensor, mapped from the file (little-endian). */
  public ByteBuffer read(Safetensors.TensorInfo info) {
    int size = Safetensors.checkedSize(info);
    try {
      return channel
          .map(FileChannel.MapMode.READ_ONLY, dataStart + info.begin(), size)
          .order(ByteOrder.LITTLE_ENDIAN);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read tensor '" + info.name() + "' of " + path, e);
    }
  }

  @Override
  public void forEachTensor(BiConsumer<Safetensors.TensorInfo, ByteBuffer> sink) {
    header.values().forEach(info -> sink.accept(info, read(info)));
  }

  @Override
  public void close() {
    closeQuietly(channel);
  }

  /**
   * Several files as one source; a tensor name present in two files is an error naming both.
   * Closing the files stays with the caller.
   */
  public static Safetensors.Source union(List<SafetensorsFile> files) {
    Map<String, Safetensors.TensorInfo> all = new LinkedHashMap<>();
    for (SafetensorsFile file : files) {
      for (Safetensors.TensorInfo info : file.header().values()) {
        Safetensors.TensorInfo previous = all.put(info.name(), info);
        if (previous != null) {
          throw new IllegalArgumentException(
              "tensor '"
                  + info.name()
                  + "' is in both "
                  + previous.source()
                  + " and "
                  + info.source());
        }
      }
    }
    List<SafetensorsFile> parts = new ArrayList<>(files);
    Map<String, Safetensors.TensorInfo> view = Collections.unmodifiableMap(all);
    return new Safetensors.Source() {
      @Override
      public Map<String, Safetensors.TensorInfo> header() {
        return view;
      }

      @Override
      public void forEachTensor(BiConsumer<Safetensors.TensorInfo, ByteBuffer> sink) {
        parts.forEach(part -> part.forEachTensor(sink));
      }
    };
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException ignored) {
      // Nothing was written; a failed close of a read-only channel loses nothing.
    }
  }
}

package dev.ncalign.orchestrator.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * A JSON-lines file that survives crashes: appends are fsynced before they return, a torn last line
 * (the process died mid-write) is ignored on reading, and rewrites go through a temporary file and
 * an atomic rename.
 */
final class JsonLines {

  private final Path file;
  private final ObjectMapper mapper;

  JsonLines(Path file, ObjectMapper mapper) {
    this.file = file;
    this.mapper = mapper;
  }

  /** Appends one line per row and forces them to disk. */
  void append(List<?> rows) {
    StringBuilder text = new StringBuilder();
    for (Object row : rows) {
      text.append(toJson(row)).append('\n');
    }
    try (FileChannel channel =
        FileChannel.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      ByteBuffer bytes = ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8));
      while (bytes.hasRemaining()) {
        channel.write(bytes);
      }
      channel.force(true);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot append to " + file, e);
    }
  }

  /** Every complete row, in file order; none when the file does not exist yet. */
  <T> List<T> read(Class<T> type) {
    List<T> rows = new ArrayList<>();
    for (Line line : lines()) {
      try {
        rows.add(mapper.treeToValue(line.node(), type));
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(
            file + ": row " + (rows.size() + 1) + " is not a " + type.getSimpleName(), e);
      }
    }
    return rows;
  }

  /** Rewrites the file with only the complete rows {@code keep} accepts, atomically. */
  void retain(Predicate<JsonNode> keep) {
    if (!Files.exists(file)) {
      return;
    }
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (BufferedWriter out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
      for (Line line : lines()) {
        if (keep.test(line.node())) {
          out.write(line.text());
          out.write('\n');
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot rewrite " + file, e);
    }
    AtomicFiles.sync(tmp);
    AtomicFiles.replace(tmp, file);
  }

  /** A complete line as written and its parsed form. */
  private record Line(String text, JsonNode node) {}

  private List<Line> lines() {
    if (!Files.exists(file)) {
      return List.of();
    }
    List<Line> lines = new ArrayList<>();
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line = in.readLine();
      int number = 0;
      while (line != null) {
        number++;
        String next = in.readLine();
        if (!line.isBlank()) {
          try {
            lines.add(new Line(line, mapper.readTree(line)));
          } catch (JsonProcessingException e) {
            // Only the last line can be torn by a crash; damage anywhere else is not ours to hide.
            if (next != null) {
              throw new IllegalStateException(file + ": line " + number + " is not JSON", e);
            }
          }
        }
        line = next;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    return lines;
  }

  private String toJson(Object row) {
    try {
      return mapper.writeValueAsString(row);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("cannot write " + row + " as JSON", e);
    }
  }
}

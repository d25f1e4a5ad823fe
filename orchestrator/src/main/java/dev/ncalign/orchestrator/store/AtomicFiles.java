package dev.ncalign.orchestrator.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Write-then-rename, so a reader or a crash sees either the old file or the new one, never half.
 */
final class AtomicFiles {

  private AtomicFiles() {}

  static void write(Path target, byte[] content) {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    try {
      Files.write(tmp, content);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + tmp, e);
    }
    sync(tmp);
    replace(tmp, target);
  }

  static void sync(Path file) {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.force(true);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot sync " + file, e);
    }
  }

  static void replace(Path tmp, Path target) {
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      // The rename lives in the directory: sync it too, or a crash can bring the old file back.
      try (FileChannel dir =
          FileChannel.open(target.toAbsolutePath().getParent(), StandardOpenOption.READ)) {
        dir.force(true);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot replace " + target, e);
    }
  }
}

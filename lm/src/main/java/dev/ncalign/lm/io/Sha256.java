package dev.ncalign.lm.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.Consumer;

/** SHA-256 digests as lower-case hex, the form PushWeights headers and reward infos carry. */
public final class Sha256 {

  private Sha256() {}

  /** A fresh SHA-256 digest (every JVM has one). */
  public static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  /** Lower-case hex of a finished digest. */
  public static String hex(MessageDigest digest) {
    return HexFormat.of().formatHex(digest.digest());
  }

  /** Lower-case hex SHA-256 of {@code data}. */
  public static String hex(byte[] data) {
    MessageDigest digest = newDigest();
    digest.update(data);
    return hex(digest);
  }

  /** The digest and length of what a writer wrote. */
  public record Summary(String hex, long bytes) {}

  /**
   * Runs {@code writer} against a stream that only digests and counts, so a header announcing
   * {@code sha256_hex} and {@code total_bytes} can precede a second, real pass over the same bytes
   * without ever holding them all.
   */
  public static Summary of(Consumer<OutputStream> writer) {
    MessageDigest digest = newDigest();
    long[] count = {0};
    OutputStream sink =
        new OutputStream() {
          @Override
          public void write(int b) {
            digest.update((byte) b);
            count[0]++;
          }

          @Override
          public void write(byte[] b, int off, int len) {
            digest.update(b, off, len);
            count[0] += len;
          }
        };
    writer.accept(sink);
    return new Summary(hex(digest), count[0]);
  }

  /** Lower-case hex SHA-256 of a file, read in 1 MiB pieces. */
  public static String hex(Path file) {
    MessageDigest digest = newDigest();
    byte[] buffer = new byte[1 << 20];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        digest.update(buffer, 0, n);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    return hex(digest);
  }
}

package dev.ncalign.orchestrator.client;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Size and SHA-256 of a {@link WeightSource}, computed by writing it through a digest that keeps no
 * bytes: what a PushWeights header announces before the data follows.
 *
 * @param totalBytes the file's length
 * @param sha256Hex lower-case hex SHA-256 of the file
 */
record WeightDigest(long totalBytes, String sha256Hex) {

  static WeightDigest of(WeightSource source) {
    MessageDigest sha256 = sha256();
    long[] count = {0};
    OutputStream sink =
        new OutputStream() {
          @Override
          public void write(int b) {
            sha256.update((byte) b);
            count[0]++;
          }

          @Override
          public void write(byte[] b, int off, int len) {
            sha256.update(b, off, len);
            count[0] += len;
          }
        };
    try {
      source.writeTo(sink);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the weights to digest them", e);
    }
    return new WeightDigest(count[0], HexFormat.of().formatHex(sha256.digest()));
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}

package dev.ncalign.orchestrator.client;

import dev.ncalign.lm.io.Sha256;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Size and SHA-256 of a {@link WeightSource}, computed by writing it through a digest that keeps no
 * bytes: what a PushWeights header announces before the data follows.
 *
 * @param totalBytes the file's length
 * @param sha256Hex lower-case hex SHA-256 of the file
 */
record WeightDigest(long totalBytes, String sha256Hex) {

  static WeightDigest of(WeightSource source) {
    Sha256.Summary summary =
        Sha256.of(
            out -> {
              try {
                source.writeTo(out);
              } catch (IOException e) {
                throw new UncheckedIOException("cannot write the weights to digest them", e);
              }
            });
    return new WeightDigest(summary.bytes(), summary.hex());
  }
}

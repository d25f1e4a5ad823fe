package dev.ncalign.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Reads what a reward server reports about its model runs from its Prometheus endpoint, as an
 * operator would: how many runs, how many items they held, and how long they took. Two readings
 * taken around a measurement give the batches actually formed in it.
 */
final class RewardServerMeters {

  private static final String BATCH_SIZE = "ncalign_reward_server_batch_size";
  private static final String MODEL_RUN = "ncalign_reward_server_model_run_seconds";

  /**
   * Counters at one moment.
   *
   * @param runs model runs so far
   * @param items items in those runs
   * @param runSeconds time inside ONNX Runtime
   */
  record Reading(double runs, double items, double runSeconds) {

    /** What happened between {@code earlier} and this reading. */
    Reading since(Reading earlier) {
      return new Reading(
          runs - earlier.runs, items - earlier.items, runSeconds - earlier.runSeconds);
    }

    /** Mean items per model run (0 when there was none). */
    double meanBatch() {
      return runs == 0 ? 0 : items / runs;
    }
  }

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final URI uri;

  RewardServerMeters(int metricsPort) {
    this.uri = URI.create("http://127.0.0.1:" + metricsPort + "/metrics");
  }

  Reading read() {
    String text;
    try {
      text =
          http.send(
                  HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot scrape " + uri, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted scraping " + uri, e);
    }
    return new Reading(
        value(text, BATCH_SIZE + "_count"),
        value(text, BATCH_SIZE + "_sum"),
        value(text, MODEL_RUN + "_sum"));
  }

  /** The value of the unlabelled sample {@code name} in Prometheus text format. */
  static double value(String text, String name) {
    for (String line : text.split("\n")) {
      if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    throw new IllegalStateException("no sample " + name + " in the server's metrics");
  }
}

package dev.ncalign.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/** HTTP requests to a server's metrics port on loopback, for tests. */
public final class MetricsScrapes {

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private MetricsScrapes() {}

  /** {@code GET /metrics}, checked for 200 and the Prometheus text format, parsed. */
  public static PrometheusSamples scrape(int port) throws IOException, InterruptedException {
    HttpResponse<String> response = get(port, "/metrics");
    assertEquals(200, response.statusCode());
    String type = response.headers().firstValue("Content-Type").orElse("");
    assertTrue(type.startsWith("text/plain; version=0.0.4"), type);
    return new PrometheusSamples(response.body());
  }

  public static HttpResponse<String> get(int port, String path)
      throws IOException, InterruptedException {
    return HTTP.send(
        HttpRequest.newBuilder(uri(port, path)).build(), HttpResponse.BodyHandlers.ofString());
  }

  public static HttpResponse<String> post(int port, String path)
      throws IOException, InterruptedException {
    return HTTP.send(
        HttpRequest.newBuilder(uri(port, path)).POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static URI uri(int port, String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }
}

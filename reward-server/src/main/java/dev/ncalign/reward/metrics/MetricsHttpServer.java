package dev.ncalign.reward.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;

/**
 * {@code GET /metrics} in the Prometheus text format on a port of its own, so scrapes need no gRPC
 * client and stay off the scoring port. The JDK's HTTP server on its one dispatcher thread: a
 * scrape is cheap.
 */
public final class MetricsHttpServer implements AutoCloseable {

  /**
   * Prometheus text format 0.0.4, what {@link PrometheusMeterRegistry#scrape(OutputStream)} writes.
   */
  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final HttpServer server;

  private MetricsHttpServer(HttpServer server) {
    this.server = server;
  }

  /** Listens on {@code bind:port} (port 0: any free one) and serves {@code registry}. */
  public static MetricsHttpServer start(PrometheusMeterRegistry registry, String bind, int port)
      throws IOException {
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(bind, port), 0);
    } catch (IOException e) {
      throw new IOException(
          "cannot listen for metrics on " + bind + ":" + port + ": " + e.getMessage(), e);
    }
    server.createContext("/metrics", exchange -> serve(exchange, registry));
    server.start();
    return new MetricsHttpServer(server);
  }

  private static void serve(HttpExchange exchange, PrometheusMeterRegistry registry)
      throws IOException {
    try (exchange) {
      // Contexts match by prefix; only the exact path is the endpoint.
      if (!exchange.getRequestURI().getPath().equals("/metrics")) {
        exchange.sendResponseHeaders(404, -1);
      } else if (!exchange.getRequestMethod().equals("GET")) {
        exchange.getResponseHeaders().set("Allow", "GET");
        exchange.sendResponseHeaders(405, -1);
      } else {
        exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
        exchange.sendResponseHeaders(200, 0);
        try (OutputStream body = exchange.getResponseBody()) {
          registry.scrape(body);
        }
      }
    }
  }

  /** The bound port (the real one when 0 was asked for). */
  public int port() {
    return server.getAddress().getPort();
  }

  /** Stops listening; a scrape in progress is cut short. */
  @Override
  public void close() {
    server.stop(0);
  }
}

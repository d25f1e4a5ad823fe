package dev.ncalign.serving;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * {@code GET /metrics} in the Prometheus text format, on its own port: scrapes stay off the gRPC
 * port and need no gRPC client (both servers serve one). Served by the JDK's HTTP server on one
 * thread; a scrape is cheap.
 */
public final class MetricsHttpServer implements AutoCloseable {

  /**
   * Prometheus text format 0.0.4; the exposition library that defines it is only a runtime
   * dependency.
   */
  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final HttpServer server;

  private MetricsHttpServer(HttpServer server) {
    this.server = server;
  }

  /** Listens on {@code address:port} (port 0: any free one) and serves {@code registry}. */
  public static MetricsHttpServer start(
      PrometheusMeterRegistry registry, InetAddress address, int port) {
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(address, port), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot listen for metrics on " + address.getHostAddress() + ":" + port, e);
    }
    server.createContext("/metrics", exchange -> serve(exchange, registry));
    server.start();
    return new MetricsHttpServer(server);
  }

  private static void serve(HttpExchange exchange, PrometheusMeterRegistry registry)
      throws IOException {
    try (exchange) {
      // A context matches by prefix; only the exact path is ours.
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

package dev.ncalign.orchestrator.web;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Server-sent events to every open page. The loop thread publishes; each write is handed to the
 * event loop that owns the connection, since a response belongs to that thread.
 */
final class EventStream {

  private record Subscriber(Context context, HttpServerResponse response) {}

  private final Set<Subscriber> subscribers = ConcurrentHashMap.newKeySet();

  /** Handles {@code GET /api/events}: keeps the response open until the page goes away. */
  void subscribe(RoutingContext ctx) {
    HttpServerResponse response =
        ctx.response()
            .setChunked(true)
            .putHeader("Content-Type", "text/event-stream; charset=utf-8")
            .putHeader("Cache-Control", "no-cache")
            .putHeader("X-Accel-Buffering", "no");
    Subscriber subscriber = new Subscriber(Vertx.currentContext(), response);
    subscribers.add(subscriber);
    response.closeHandler(v -> subscribers.remove(subscriber));
    // A comment line sends the headers now, so the browser reports the stream open before the first
    // round.
    response.write(": connected\n\n");
  }

  /** Sends one event named {@code event} with a single-line JSON payload to every subscriber. */
  void publish(String event, String json) {
    String frame = "event: " + event + "\ndata: " + json + "\n\n";
    for (Subscriber s : subscribers) {
      s.context()
          .runOnContext(
              v -> {
                if (!s.response().closed()) {
                  s.response().write(frame);
                }
              });
    }
  }

  /** Ends every open stream (the server is shutting down). */
  void closeAll() {
    for (Subscriber s : subscribers) {
      s.context()
          .runOnContext(
              v -> {
                if (!s.response().closed()) {
                  s.response().end();
                }
              });
    }
    subscribers.clear();
  }
}

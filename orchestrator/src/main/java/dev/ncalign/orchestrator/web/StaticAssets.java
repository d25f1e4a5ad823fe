package dev.ncalign.orchestrator.web;

import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The page, its script and style, and Chart.js, served from the jar. Each file is read once at
 * startup. Vert.x's StaticHandler is not used because it looks in the working directory before the
 * class path (a {@code web/} folder there would shadow the page) and unpacks class-path files into
 * a {@code .vertx} cache directory wherever the user happens to run the CLI.
 */
final class StaticAssets {

  private static final String CHART_JS_PROPERTIES =
      "META-INF/maven/org.webjars.npm/chart.js/pom.properties";

  private StaticAssets() {}

  static void mount(Router router) {
    serve(router, "/", "web/index.html", "text/html; charset=utf-8");
    serve(router, "/assets/dashboard.js", "web/dashboard.js", "text/javascript; charset=utf-8");
    serve(router, "/assets/dashboard.css", "web/dashboard.css", "text/css; charset=utf-8");
    serve(
        router,
        "/assets/chart.umd.min.js",
        "META-INF/resources/webjars/chart.js/" + chartJsVersion() + "/dist/chart.umd.min.js",
        "text/javascript; charset=utf-8");
  }

  private static void serve(Router router, String path, String resource, String contentType) {
    Buffer body = Buffer.buffer(read(resource));
    router
        .get(path)
        .handler(
            ctx ->
                ctx.response()
                    .putHeader("Content-Type", contentType)
                    .putHeader("Cache-Control", "no-cache")
                    .end(body));
  }

  /** The WebJar's version, so the pom alone decides which Chart.js ships. */
  private static String chartJsVersion() {
    Properties properties = new Properties();
    try {
      properties.load(new ByteArrayInputStream(read(CHART_JS_PROPERTIES)));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + CHART_JS_PROPERTIES, e);
    }
    return properties.getProperty("version");
  }

  private static byte[] read(String resource) {
    try (InputStream in = StaticAssets.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing class-path resource " + resource);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read class-path resource " + resource, e);
    }
  }
}

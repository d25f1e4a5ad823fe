package dev.ncalign.lm.chat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.Engine;
import org.graalvm.polyglot.PolyglotException;
import org.graalvm.polyglot.Source;
import org.graalvm.polyglot.Value;
import org.graalvm.polyglot.proxy.ProxyExecutable;

/**
 * One compiled template inside its own GraalJS context running {@code @huggingface/jinja} 0.5.11
 * (Hugging Face's chat-template engine, MIT). The resource {@code huggingface-jinja-0.5.11.cjs} is
 * the npm package's {@code dist/index.cjs}, unchanged, beside its LICENSE; to update, {@code npm
 * pack @huggingface/jinja@VERSION}, copy that file and re-run the goldens. A context may be entered
 * by one thread at a time, so {@link #render} is synchronized; the engine is shared so every
 * context reuses the parsed bundle. The context gets no host access, I/O or threads: a template
 * only ever sees the JSON it is given. A render that runs past its time limit is interrupted (the
 * context stays usable), so a template that loops on some conversation cannot hold the lock
 * forever.
 */
final class HfJinja implements AutoCloseable {

  private static final String BUNDLE = "huggingface-jinja-0.5.11.cjs";

  /**
   * Glue evaluated once per context; takes the bundle's module function, returns {compile, render}.
   */
  private static final String GLUE =
      """
            (function (load) {
              const module = { exports: {} };
              load(module, module.exports);
              const jinja = module.exports;
              // Python's Jinja lets render variables shadow globals (transformers relies on it for
              // strftime_now); @huggingface/jinja refuses to re-declare one, so a render variable replaces it.
              const declare = jinja.Environment.prototype.set;
              jinja.Environment.prototype.set = function (name, value) {
                this.variables.delete(name);
                return declare.call(this, name, value);
              };
              return {
                compile(text) { return new jinja.Template(text); },
                render(template, varsJson, strftime) {
                  const vars = JSON.parse(varsJson);
                  vars.strftime_now = (format) => String(strftime(String(format)));
                  vars.raise_exception = (message) => {
                    const e = new Error(String(message));
                    e.raisedByTemplate = true;
                    throw e;
                  };
                  return template.render(vars);
                },
              };
            })
            """;

  private static final class Shared {
    // Created on first use: a JVM that never renders a chat template never starts Truffle.
    static final Engine ENGINE =
        Engine.newBuilder("js")
            // Stock OpenJDK has no Graal JIT for Truffle; the interpreter is fast enough for
            // templates.
            .option("engine.WarnInterpreterOnly", "false")
            .build();
    static final Source BUNDLE_SOURCE = loadBundle();
    static final Source GLUE_SOURCE = Source.create("js", GLUE);
    // Interrupts renders past their limit; statement limits would do it too but slowed the
    // interpreter ~4x when measured here.
    static final ScheduledExecutorService WATCHDOG =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "chat-template-watchdog");
              t.setDaemon(true);
              return t;
            });
  }

  private final Context context;
  private final Value glue;
  private final Value template;
  private final ProxyExecutable strftime;
  private final Duration timeLimit;

  /**
   * Compiles {@code templateText}; {@code strftime} answers the template's {@code
   * strftime_now(format)}; a render taking longer than {@code timeLimit} is stopped.
   *
   * @throws IllegalArgumentException if the text is not a template the engine can parse
   */
  HfJinja(String templateText, Function<String, String> strftime, Duration timeLimit) {
    this.context = Context.newBuilder("js").engine(Shared.ENGINE).build();
    this.strftime = args -> strftime.apply(args[0].asString());
    this.timeLimit = timeLimit;
    try {
      Value load = context.eval(Shared.BUNDLE_SOURCE);
      this.glue = context.eval(Shared.GLUE_SOURCE).execute(load);
      this.template = glue.invokeMember("compile", templateText);
    } catch (PolyglotException e) {
      // Read the JS error before closing: its message lives in the context.
      RuntimeException failure =
          e.isGuestException() && !e.isInternalError()
              ? new IllegalArgumentException("invalid chat template: " + guestMessage(e), e)
              : e;
      context.close();
      throw failure;
    } catch (RuntimeException e) {
      context.close();
      throw e;
    }
  }

  /**
   * Renders with the variables in {@code varsJson} (a JSON object).
   *
   * @throws IllegalArgumentException if the template raises, fails or runs out of time on these
   *     variables
   */
  synchronized String render(String varsJson) {
    Future<?> watchdog =
        Shared.WATCHDOG.schedule(this::interrupt, timeLimit.toMillis(), TimeUnit.MILLISECONDS);
    try {
      return glue.invokeMember("render", template, varsJson, strftime).asString();
    } catch (PolyglotException e) {
      if (e.isInterrupted()) {
        throw new IllegalArgumentException(
            "chat template did not finish within " + timeLimit.toMillis() + " ms", e);
      }
      if (!e.isGuestException() || e.isInternalError()) {
        throw e;
      }
      Value error = e.getGuestObject();
      boolean raised =
          error != null
              && error.hasMember("raisedByTemplate")
              && error.getMember("raisedByTemplate").isBoolean()
              && error.getMember("raisedByTemplate").asBoolean();
      throw new IllegalArgumentException(
          raised
              ? "chat template rejected the conversation: " + guestMessage(e)
              : "chat template failed on this conversation: " + guestMessage(e),
          e);
    } finally {
      // Still under the lock: an interrupt already on its way must land before the next render
      // starts (on an idle context it is a no-op).
      if (!watchdog.cancel(false)) {
        awaitQuietly(watchdog);
      }
    }
  }

  @Override
  public synchronized void close() {
    context.close();
  }

  private void interrupt() {
    try {
      context.interrupt(Duration.ofSeconds(10));
    } catch (TimeoutException | RuntimeException e) {
      // The render ended (or the context closed) meanwhile: nothing left to stop.
    }
  }

  private static void awaitQuietly(Future<?> task) {
    try {
      task.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      // interrupt() swallows its own failures
    }
  }

  /** The JS error's own message, without GraalJS's "Error: " prefix. */
  private static String guestMessage(PolyglotException e) {
    Value error = e.getGuestObject();
    if (error != null && error.hasMember("message") && error.getMember("message").isString()) {
      return error.getMember("message").asString();
    }
    return e.getMessage();
  }

  private static Source loadBundle() {
    try (InputStream in = HfJinja.class.getResourceAsStream(BUNDLE)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + BUNDLE);
      }
      String code = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      // The CommonJS wrapper, as Node applies it: the file evaluates to a function of
      // (module, exports). The bundle requires nothing, so no require is passed.
      return Source.newBuilder("js", "(function (module, exports) {\n" + code + "\n})", BUNDLE)
          .build();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + BUNDLE, e);
    }
  }
}

package dev.ncalign.orchestrator.client;

import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The replicas of one service, one channel each. Plain calls rotate over them (round robin) and
 * fail over to the next replica on UNAVAILABLE; after a pass where every replica was unavailable
 * they wait (exponential backoff) and try again, up to {@link ClientOptions#retries()} times. Calls
 * that must reach every replica run on all channels in parallel. One channel per target, rather
 * than grpc's round_robin policy over a multi-address resolver, because PushWeights has to address
 * each replica by name anyway.
 */
final class Replicas implements AutoCloseable {

  /** Largest response accepted: a Generate answer for many prompts × K with per-token log-probs. */
  private static final int MAX_INBOUND_BYTES = 64 << 20;

  private record Replica(String target, ManagedChannel managed, Channel channel) {}

  private final String service;
  private final ClientOptions options;
  private final List<Replica> replicas = new ArrayList<>();
  private final AtomicInteger cursor = new AtomicInteger();
  private final ExecutorService pool;

  /**
   * @param service "policy" or "reward", for messages
   */
  Replicas(String service, List<String> targets, ClientOptions options) {
    if (targets.isEmpty()) {
      throw new IllegalArgumentException("no " + service + " targets given");
    }
    this.service = service;
    this.options = options;
    CallPolicy policy = new CallPolicy(options);
    for (String target : targets) {
      ManagedChannel managed =
          Grpc.newChannelBuilder(target, InsecureChannelCredentials.create())
              .maxInboundMessageSize(MAX_INBOUND_BYTES)
              .build();
      replicas.add(new Replica(target, managed, ClientInterceptors.intercept(managed, policy)));
    }
    this.pool =
        Executors.newCachedThreadPool(
            task -> {
              Thread thread = new Thread(task, "ncalign-" + service + "-client");
              thread.setDaemon(true);
              return thread;
            });
  }

  int size() {
    return replicas.size();
  }

  /** One call on the next replica in turn, failing over and retrying as the class describes. */
  <T> T call(String method, Function<Channel, T> rpc) {
    int start = Math.floorMod(cursor.getAndIncrement(), replicas.size());
    List<Replica> order = new ArrayList<>(replicas.subList(start, replicas.size()));
    order.addAll(replicas.subList(0, start));
    return withRetries(method, order, rpc);
  }

  /**
   * The same call on every replica, in parallel, each retried on UNAVAILABLE against that replica.
   * Returns in target order once all succeeded; otherwise waits for all and names every failure.
   */
  <T> List<T> callEach(String method, Function<Channel, T> rpc) {
    List<Future<T>> futures = new ArrayList<>();
    for (Replica replica : replicas) {
      futures.add(pool.submit(() -> withRetries(method, List.of(replica), rpc)));
    }
    List<T> results = new ArrayList<>();
    Map<String, Status> failures = new LinkedHashMap<>();
    RpcException first = null;
    for (int i = 0; i < futures.size(); i++) {
      try {
        results.add(join(futures.get(i)));
      } catch (RpcException e) {
        failures.put(replicas.get(i).target(), e.status());
        first = first == null ? e : first;
      }
    }
    if (first != null) {
      throw new RpcException(
          service
              + " "
              + method
              + " failed on "
              + failures.size()
              + " of "
              + replicas.size()
              + " replicas: "
              + list(failures),
          first.status(),
          first);
    }
    return results;
  }

  /**
   * Tries {@code order} front to back, moving on only on UNAVAILABLE; after a pass where all were
   * unavailable, pauses and starts over, {@link ClientOptions#retries()} times at most.
   */
  private <T> T withRetries(String method, List<Replica> order, Function<Channel, T> rpc) {
    Map<String, Status> down = new LinkedHashMap<>();
    StatusRuntimeException last = null;
    for (int pass = 0; pass <= options.retries(); pass++) {
      if (pass > 0) {
        pause(pass);
      }
      for (Replica replica : order) {
        try {
          return rpc.apply(replica.channel());
        } catch (StatusRuntimeException e) {
          if (e.getStatus().getCode() != Status.Code.UNAVAILABLE) {
            throw new RpcException(
                service
                    + " "
                    + method
                    + " on "
                    + replica.target()
                    + " failed: "
                    + RpcException.describe(e.getStatus()),
                e.getStatus(),
                e);
          }
          down.put(replica.target(), e.getStatus());
          last = e;
          // Otherwise the channel keeps failing fast until its own reconnect timer (up to minutes)
          // fires.
          replica.managed().resetConnectBackoff();
        }
      }
    }
    String which =
        order.size() == replicas.size()
            ? "every " + service + " replica is down: "
            : service + " replica down: ";
    int attempts = options.retries() + 1;
    throw new RpcException(
        which + list(down) + "; " + attempts + (attempts == 1 ? " attempt" : " attempts") + " each",
        last.getStatus(),
        last);
  }

  /** One {@link #call} per part of a split request, in parallel; results in part order. */
  <P, T> List<T> scatter(String method, List<P> parts, Function<P, Function<Channel, T>> rpc) {
    if (parts.size() == 1) {
      return List.of(call(method, rpc.apply(parts.get(0))));
    }
    List<Future<T>> futures = new ArrayList<>();
    for (P part : parts) {
      futures.add(pool.submit(() -> call(method, rpc.apply(part))));
    }
    List<T> results = new ArrayList<>();
    RuntimeException first = null;
    for (Future<T> future : futures) {
      try {
        results.add(join(future));
      } catch (RuntimeException e) {
        first = first == null ? e : first;
      }
    }
    if (first != null) {
      throw first;
    }
    return results;
  }

  /**
   * Waits until every replica reports SERVING on the standard health service (a server without one
   * counts as ready once it answers), or the timeout passes.
   */
  boolean awaitReady(Duration timeout) {
    long end = System.nanoTime() + timeout.toNanos();
    List<Replica> waiting = new ArrayList<>(replicas);
    while (true) {
      waiting.removeIf(replica -> serving(replica, end));
      long left = end - System.nanoTime();
      if (waiting.isEmpty() || left <= 0) {
        return waiting.isEmpty();
      }
      sleep(Duration.ofNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(100))));
    }
  }

  /**
   * Whether each replica reports SERVING now (target → healthy, in target order), probing for at
   * most {@code timeout}.
   */
  Map<String, Boolean> health(Duration timeout) {
    long end = System.nanoTime() + timeout.toNanos();
    Map<String, Boolean> health = new LinkedHashMap<>();
    replicas.forEach(replica -> health.put(replica.target(), serving(replica, end)));
    return health;
  }

  private boolean serving(Replica replica, long endNanos) {
    long probeNanos =
        Math.max(Math.min(endNanos - System.nanoTime(), TimeUnit.SECONDS.toNanos(1)), 1);
    try {
      HealthCheckResponse response =
          HealthGrpc.newBlockingStub(replica.managed())
              .withDeadlineAfter(probeNanos, TimeUnit.NANOSECONDS)
              .check(HealthCheckRequest.getDefaultInstance());
      return response.getStatus() == HealthCheckResponse.ServingStatus.SERVING;
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.UNIMPLEMENTED) {
        return true;
      }
      replica.managed().resetConnectBackoff();
      return false;
    }
  }

  /** The pause before extra pass {@code pass} (1-based): initial, then doubled, capped. */
  private void pause(int pass) {
    long nanos = options.initialBackoff().toNanos() << Math.min(pass - 1, 30);
    sleep(Duration.ofNanos(Math.min(Math.max(nanos, 0), options.maxBackoff().toNanos())));
  }

  private void sleep(Duration duration) {
    try {
      Thread.sleep(duration.toMillis(), (int) (duration.toNanos() % 1_000_000));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RpcException(service + " call interrupted", Status.CANCELLED, e);
    }
  }

  private static <T> T join(Future<T> future) {
    try {
      return future.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RpcException("interrupted while waiting for replicas", Status.CANCELLED, e);
    }
  }

  private static String list(Map<String, Status> failures) {
    return failures.entrySet().stream()
        .map(f -> f.getKey() + " (" + RpcException.describe(f.getValue()) + ")")
        .collect(Collectors.joining(", "));
  }

  @Override
  public void close() {
    pool.shutdownNow();
    for (Replica replica : replicas) {
      replica.managed().shutdownNow();
    }
    for (Replica replica : replicas) {
      try {
        replica.managed().awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}

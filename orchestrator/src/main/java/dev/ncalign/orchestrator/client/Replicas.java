package dev.ncalign.orchestrator.client;

import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ConnectivityState;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replicas of one service, one channel per replica address, each UP, DOWN or REFUSED.
 *
 * <p>Plain calls go to the live (UP) replicas in turn, request by request (client-side round
 * robin). A replica that answers UNAVAILABLE is retried on a connection that stays up (a replica
 * warming up) and otherwise marked DOWN at once, with a log line, and the request is re-sent to
 * another live replica. When none is live a call waits for one to come back and fails only after
 * {@link ClientOptions#replicaTimeout()} without any.
 *
 * <p>A health round every {@link ClientOptions#healthInterval()} re-resolves {@code dns:///}
 * targets (replicas that appear join as DOWN, those that vanish are dropped), marks UP replicas
 * that stopped serving DOWN, and runs the service's {@link Admission} on every DOWN or REFUSED
 * replica that serves again: only a replica it admits becomes UP, so a replica that comes back is
 * in step (e.g. serves the live policy version) before it receives any call.
 *
 * <p>One channel per address, rather than grpc's round_robin policy over a multi-address resolver,
 * because PushWeights and admission have to address each replica by name.
 */
final class Replicas implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Replicas.class);

  /** Largest response accepted: a Generate answer for many prompts × K with per-token log-probs. */
  private static final int MAX_INBOUND_BYTES = 64 << 20;

  /** Longest single health probe. */
  private static final Duration PROBE = Duration.ofSeconds(2);

  /** Health probes in a row that must time out before a live replica is marked down. */
  private static final int SLOW_PROBES_FOR_DOWN = 5;

  /**
   * Brings a replica that serves again (or for the first time) in step with the others before calls
   * reach it.
   */
  @FunctionalInterface
  interface Admission {
    /**
     * @return the policy version the replica now serves; null when versions do not apply
     * @throws Refused when the replica must not be used
     * @throws StatusRuntimeException when it failed on the way (it stays DOWN and is tried again)
     */
    Long admit(Channel channel);

    /** Admits every replica that serves. */
    Admission ANY = channel -> null;
  }

  /** A replica that serves but must not be used; the message says why, naming no target. */
  static final class Refused extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Refused(String message) {
      super(message);
    }
  }

  /**
   * Thrown by a call's rpc when the answer shows its replica out of step (e.g. serving another
   * version than the live one): the replica is marked DOWN, to be admitted again, and the request
   * re-sent.
   */
  static final class OutOfStep extends RuntimeException {
    private static final long serialVersionUID = 1L;

    OutOfStep(String message) {
      super(message);
    }
  }

  /** A replica failed a call in a way that takes it out: the request goes elsewhere. */
  private static final class ReplicaFailed extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient Status status;

    ReplicaFailed(String message, Status status) {
      super(message, null, false, false);
      this.status = status;
    }
  }

  private static final class Member {
    final String target;
    final String source;
    final ManagedChannel managed;
    final Channel channel;
    final AtomicBoolean checking = new AtomicBoolean();
    final AtomicInteger outages = new AtomicInteger();
    ReplicaState state;
    String detail;
    Long version;
    Instant since = Instant.now();
    // Only the health round (one check at a time per member) touches it.
    int slowProbes;

    Member(String target, String source, ManagedChannel managed, Channel channel) {
      this.target = target;
      this.source = source;
      this.managed = managed;
      this.channel = channel;
    }
  }

  private final String service;
  private final ClientOptions options;
  private final CallPolicy callPolicy;
  private final Admission admission;
  private final Discovery discovery;
  private final List<Member> members = new CopyOnWriteArrayList<>();
  private final Map<String, String> resolveErrors = new LinkedHashMap<>();
  private final AtomicInteger cursor = new AtomicInteger();
  private final ExecutorService pool;
  private final ScheduledExecutorService poller;
  private final Object liveChanged = new Object();
  private volatile boolean closed;

  /**
   * @param service "policy" or "reward", for messages
   * @param targets {@code host:port} or {@code dns:///name:port} (many replicas), any number
   */
  Replicas(
      String service,
      List<String> targets,
      ClientOptions options,
      Admission admission,
      Discovery.Resolver resolver) {
    if (targets.isEmpty()) {
      throw new IllegalArgumentException("no " + service + " targets given");
    }
    this.service = service;
    this.options = options;
    this.callPolicy = new CallPolicy(options);
    this.admission = admission;
    this.discovery = new Discovery(targets, resolver);
    // Replicas known at start are used at once; the run checks them itself before round 1.
    discovery
        .resolve(resolveErrors)
        .forEach((target, source) -> members.add(member(target, source, ReplicaState.UP, "")));
    resolveErrors.forEach((target, error) -> LOG.warn("{} target {}: {}", service, target, error));
    this.pool = Executors.newCachedThreadPool(daemon("ncalign-" + service + "-client"));
    this.poller =
        Executors.newSingleThreadScheduledExecutor(daemon("ncalign-" + service + "-health"));
    long interval = options.healthInterval().toNanos();
    poller.scheduleWithFixedDelay(this::healthRound, interval, interval, TimeUnit.NANOSECONDS);
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return task -> {
      Thread thread = new Thread(task, name);
      thread.setDaemon(true);
      return thread;
    };
  }

  private Member member(String target, String source, ReplicaState state, String detail) {
    ManagedChannel managed =
        Grpc.newChannelBuilder(target, InsecureChannelCredentials.create())
            .maxInboundMessageSize(MAX_INBOUND_BYTES)
            .build();
    Member member =
        new Member(target, source, managed, ClientInterceptors.intercept(managed, callPolicy));
    member.state = state;
    member.detail = detail;
    return member;
  }

  /** How many replicas are live now, at least 1 (the number of slices to split a request into). */
  int size() {
    return Math.max(1, live().size());
  }

  /** Every replica as it stands now, in discovery order. */
  List<ReplicaView> views() {
    List<ReplicaView> views = new ArrayList<>();
    for (Member m : members) {
      synchronized (m) {
        views.add(
            new ReplicaView(m.target, m.state, m.version, m.detail, m.since, m.outages.get()));
      }
    }
    return views;
  }

  /** Records the version a replica serves after a call that set it (a push). */
  void setVersion(String target, long version) {
    for (Member m : members) {
      if (m.target.equals(target)) {
        synchronized (m) {
          m.version = version;
        }
      }
    }
  }

  /**
   * One call on the next live replica in turn, re-sent to another live replica when one fails, as
   * the class describes.
   *
   * @throws RpcException on a non-retryable error, or when no replica answered for {@link
   *     ClientOptions#replicaTimeout()}
   */
  <T> T call(String method, Function<Channel, T> rpc) {
    Map<String, String> failures = new LinkedHashMap<>();
    long failingSince = 0;
    Status lastStatus = Status.UNAVAILABLE;
    while (true) {
      Member member = nextLiveOrNull();
      if (member == null) {
        member = awaitLive(method, failures, lastStatus);
      }
      try {
        return attempt(member, method, rpc);
      } catch (ReplicaFailed failed) {
        markDown(member, method + ": " + failed.getMessage());
        failures.put(member.target, failed.getMessage());
        lastStatus = failed.status;
        // Replicas that keep failing and coming back must not keep a call going for ever.
        long now = System.nanoTime();
        if (failingSince == 0) {
          failingSince = now;
        } else if (now - failingSince > options.replicaTimeout().toNanos()) {
          throw gaveUp(method, failures, lastStatus);
        }
      }
    }
  }

  /**
   * The same call on every live replica, in parallel. A replica that fails as {@link #call}
   * describes is marked DOWN and left out (it is brought in step when it comes back).
   *
   * @return target → answer of every live replica that answered, in discovery order
   * @throws RpcException naming every replica that failed otherwise (a non-retryable error)
   */
  <T> Map<String, T> callEach(String method, Function<Channel, T> rpc) {
    List<Member> live = live();
    List<Future<T>> futures = new ArrayList<>();
    for (Member member : live) {
      futures.add(pool.submit(() -> attempt(member, method, rpc)));
    }
    Map<String, T> results = new LinkedHashMap<>();
    Map<String, String> failures = new LinkedHashMap<>();
    RpcException first = null;
    for (int i = 0; i < futures.size(); i++) {
      Member member = live.get(i);
      try {
        results.put(member.target, join(futures.get(i)));
      } catch (ReplicaFailed failed) {
        markDown(member, method + ": " + failed.getMessage());
      } catch (RpcException e) {
        failures.put(member.target, RpcException.describe(e.status()));
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
              + live.size()
              + " replicas: "
              + failures.entrySet().stream()
                  .map(f -> f.getKey() + " (" + f.getValue() + ")")
                  .collect(Collectors.joining(", ")),
          first.status(),
          first);
    }
    return results;
  }

  /**
   * Waits until some replica is live.
   *
   * @throws RpcException when none is for {@link ClientOptions#replicaTimeout()}
   */
  void awaitAnyLive(String method) {
    if (nextLiveOrNull() == null) {
      awaitLive(method, new LinkedHashMap<>(), Status.UNAVAILABLE);
    }
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
   * The call on one replica: retried there on UNAVAILABLE while its connection stays up, up to
   * {@link ClientOptions#retries()} times with backoff.
   *
   * @throws ReplicaFailed when the replica should be taken out
   * @throws RpcException on any other error
   */
  private <T> T attempt(Member member, String method, Function<Channel, T> rpc) {
    for (int attempt = 0; ; attempt++) {
      try {
        return rpc.apply(member.channel);
      } catch (OutOfStep e) {
        throw new ReplicaFailed(e.getMessage(), Status.UNAVAILABLE);
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.UNAVAILABLE) {
          throw new RpcException(
              service
                  + " "
                  + method
                  + " on "
                  + member.target
                  + " failed: "
                  + RpcException.describe(e.getStatus()),
              e.getStatus(),
              e);
        }
        // A refused or broken connection means the process is gone: no point waiting on it.
        boolean connectionFailed =
            member.managed.getState(false) == ConnectivityState.TRANSIENT_FAILURE;
        if (connectionFailed || attempt >= options.retries()) {
          throw new ReplicaFailed(RpcException.describe(e.getStatus()), e.getStatus());
        }
        pause(attempt + 1);
      }
    }
  }

  private List<Member> live() {
    return members.stream().filter(m -> stateOf(m) == ReplicaState.UP).toList();
  }

  private static ReplicaState stateOf(Member m) {
    synchronized (m) {
      return m.state;
    }
  }

  private Member nextLiveOrNull() {
    List<Member> live = live();
    return live.isEmpty() ? null : live.get(Math.floorMod(cursor.getAndIncrement(), live.size()));
  }

  private Member awaitLive(String method, Map<String, String> failures, Status lastStatus) {
    long end = System.nanoTime() + options.replicaTimeout().toNanos();
    synchronized (liveChanged) {
      while (true) {
        Member member = nextLiveOrNull();
        if (member != null) {
          return member;
        }
        long left = end - System.nanoTime();
        if (left <= 0) {
          throw gaveUp(method, failures, lastStatus);
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(liveChanged, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new RpcException(service + " " + method + " interrupted", Status.CANCELLED, e);
        }
      }
    }
  }

  private RpcException gaveUp(String method, Map<String, String> failures, Status status) {
    List<String> states = new ArrayList<>();
    for (ReplicaView v : views()) {
      String why = failures.getOrDefault(v.target(), v.detail());
      states.add(
          v.target()
              + " ("
              + v.state().name().toLowerCase()
              + (why.isEmpty() ? "" : ": " + why)
              + ")");
    }
    resolveErrorsSnapshot().forEach((target, error) -> states.add(target + " (" + error + ")"));
    return new RpcException(
        "no live "
            + service
            + " replica for "
            + seconds(options.replicaTimeout())
            + " (clients.replica_timeout_seconds), "
            + method
            + " gave up: "
            + (states.isEmpty() ? "no replicas" : String.join(", ", states)),
        status,
        null);
  }

  private Map<String, String> resolveErrorsSnapshot() {
    synchronized (resolveErrors) {
      return new LinkedHashMap<>(resolveErrors);
    }
  }

  private static String seconds(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() / 1000.0 + " s";
  }

  private void markDown(Member m, String why) {
    synchronized (m) {
      m.detail = why;
      if (m.state != ReplicaState.UP) {
        return;
      }
      m.state = ReplicaState.DOWN;
      m.since = Instant.now();
      m.outages.incrementAndGet();
    }
    // Otherwise the channel keeps failing fast until its own reconnect timer (up to minutes) fires.
    m.managed.resetConnectBackoff();
    LOG.warn(
        "{} replica {} is down ({}); {} of {} live",
        service,
        m.target,
        why,
        live().size(),
        members.size());
  }

  private void markUp(Member m, Long version) {
    ReplicaState before;
    synchronized (m) {
      before = m.state;
      m.state = ReplicaState.UP;
      m.version = version;
      m.since = Instant.now();
      m.detail = version == null ? "" : "admitted at v" + version;
    }
    // WARN like the outage it ends: the command line shows warnings only.
    LOG.warn(
        "{} replica {} is {}{}; {} of {} live",
        service,
        m.target,
        before == ReplicaState.REFUSED ? "accepted" : "back",
        version == null ? "" : " serving v" + version,
        live().size(),
        members.size());
    synchronized (liveChanged) {
      liveChanged.notifyAll();
    }
  }

  private void markRefused(Member m, String why) {
    boolean changed;
    synchronized (m) {
      changed = m.state != ReplicaState.REFUSED || !why.equals(m.detail);
      m.state = ReplicaState.REFUSED;
      m.detail = why;
      if (changed) {
        m.since = Instant.now();
      }
    }
    if (changed) {
      LOG.error("{} replica {} refused: {}", service, m.target, why);
    }
  }

  /** One health round: re-resolve, then check every replica not already being checked. */
  private void healthRound() {
    try {
      if (discovery.dynamic()) {
        rediscover();
      }
      for (Member m : members) {
        if (m.checking.compareAndSet(false, true)) {
          pool.execute(
              () -> {
                try {
                  check(m);
                } finally {
                  m.checking.set(false);
                }
              });
        }
      }
    } catch (RuntimeException e) {
      // The pool is shut down on close; anything else must not stop the health rounds.
      if (!pool.isShutdown()) {
        LOG.warn("{} health round failed: {}", service, e.toString());
      }
    }
  }

  private void rediscover() {
    Map<String, String> errors = new LinkedHashMap<>();
    Map<String, String> found = discovery.resolve(errors);
    synchronized (resolveErrors) {
      if (!errors.equals(resolveErrors)) {
        errors.forEach((target, error) -> LOG.warn("{} target {}: {}", service, target, error));
      }
      resolveErrors.clear();
      resolveErrors.putAll(errors);
    }
    for (Member m : members) {
      // A name that failed to resolve keeps its replicas: a DNS hiccup is not an outage.
      if (!found.containsKey(m.target) && !errors.containsKey(m.source)) {
        members.remove(m);
        m.managed.shutdownNow();
        LOG.info(
            "{} replica {} vanished from {}: dropped; {} of {} live",
            service,
            m.target,
            m.source,
            live().size(),
            members.size());
      }
    }
    List<String> known = members.stream().map(m -> m.target).toList();
    found.forEach(
        (target, source) -> {
          if (!known.contains(target)) {
            members.add(member(target, source, ReplicaState.DOWN, "joining"));
            LOG.info("{} replica {} appeared in {}: joins once admitted", service, target, source);
          }
        });
  }

  private void check(Member m) {
    String problem = healthProblem(m, System.nanoTime() + PROBE.toNanos());
    if (closed) {
      return; // the probe failed because the client is closing, not the replica
    }
    if (stateOf(m) == ReplicaState.UP) {
      m.slowProbes =
          problem != null && problem.contains("DEADLINE_EXCEEDED") ? m.slowProbes + 1 : 0;
      // A refused connection or NOT_SERVING is an outage; one slow probe on a loaded machine is
      // not.
      if (problem != null && (m.slowProbes == 0 || m.slowProbes >= SLOW_PROBES_FOR_DOWN)) {
        markDown(m, problem);
      }
      return;
    }
    if (problem != null) {
      return;
    }
    try {
      markUp(m, admission.admit(m.channel));
    } catch (Refused refused) {
      markRefused(m, refused.getMessage());
    } catch (StatusRuntimeException e) {
      synchronized (m) {
        m.detail = "admission failed: " + RpcException.describe(e.getStatus());
      }
    } catch (RpcException e) {
      synchronized (m) {
        m.detail = "admission failed: " + e.getMessage();
      }
    }
  }

  /**
   * Waits until every replica reports SERVING on the standard health service (a server without one
   * counts as ready once it answers), or the timeout passes.
   */
  boolean awaitReady(Duration timeout) {
    long end = System.nanoTime() + timeout.toNanos();
    List<Member> waiting = new ArrayList<>(members);
    while (true) {
      waiting.removeIf(member -> serving(member, end));
      long left = end - System.nanoTime();
      if (waiting.isEmpty() || left <= 0) {
        return waiting.isEmpty();
      }
      sleep(Duration.ofNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(100))));
    }
  }

  private boolean serving(Member member, long endNanos) {
    return healthProblem(member, endNanos) == null;
  }

  /** Null when the replica reports SERVING (or has no health service but answers), else why not. */
  private String healthProblem(Member member, long endNanos) {
    long probeNanos = Math.max(Math.min(endNanos - System.nanoTime(), PROBE.toNanos()), 1);
    try {
      HealthCheckResponse response =
          HealthGrpc.newBlockingStub(member.managed)
              .withDeadlineAfter(probeNanos, TimeUnit.NANOSECONDS)
              .check(HealthCheckRequest.getDefaultInstance());
      return response.getStatus() == HealthCheckResponse.ServingStatus.SERVING
          ? null
          : "health " + response.getStatus();
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.UNIMPLEMENTED) {
        return null;
      }
      member.managed.resetConnectBackoff();
      return "health check: " + RpcException.describe(e.getStatus());
    }
  }

  /** The pause before extra attempt {@code attempt} (1-based): initial, then doubled, capped. */
  private void pause(int attempt) {
    long nanos = options.initialBackoff().toNanos() << Math.min(attempt - 1, 30);
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

  @Override
  public void close() {
    closed = true;
    poller.shutdownNow();
    pool.shutdownNow();
    for (Member member : members) {
      member.managed.shutdownNow();
    }
    for (Member member : members) {
      try {
        member.managed.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}

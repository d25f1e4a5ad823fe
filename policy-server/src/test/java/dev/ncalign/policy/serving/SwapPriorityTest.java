package dev.ncalign.policy.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.ncalign.lm.chat.ChatPromptEncoder;
import dev.ncalign.lm.model.TestModels;
import dev.ncalign.lm.model.TinyModelSpec;
import dev.ncalign.policy.metrics.PolicyMetrics;
import dev.ncalign.policy.scheduling.RunQueue;
import dev.ncalign.policy.scheduling.SwapPriorityGate;
import dev.ncalign.policy.scheduling.WorkScheduler;
import dev.ncalign.proto.v1.Completion;
import dev.ncalign.proto.v1.GenerateRequest;
import dev.ncalign.proto.v1.GenerateResponse;
import dev.ncalign.proto.v1.PolicyServiceGrpc;
import dev.ncalign.proto.v1.PushWeightsResponse;
import dev.ncalign.proto.v1.SamplingParams;
import dev.ncalign.proto.v1.WeightChunk;
import dev.ncalign.proto.v1.WeightHeader;
import dev.ncalign.serving.RefusedRequestException;
import dev.ncalign.serving.TextLimit;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Swap priority (issue 14): pushes pause model work between steps, running requests keep their
 * version, a bounded number of requests run at once and queued ones can leave. The policy is driven
 * directly (its {@code cancelled} poll, called between decode steps, is how the test sees and holds
 * decode loops) while pushes go through the gRPC adapter in-process.
 */
class SwapPriorityTest {

  private static final PolicyLimits LIMITS =
      new PolicyLimits(8, 4, 8, 1 << 24, new TextLimit(TextLimit.DEFAULT_MAX_CHARS));

  private PolicyRegistry registry;
  private RunQueue queue;
  private SwapPriorityGate gate;
  private Policy policy;
  private Server server;
  private ManagedChannel channel;

  /** A policy on the tiny model running at most {@code maxRunning} requests, served in-process. */
  private void start(int maxRunning) throws Exception {
    registry = new PolicyRegistry(TestModels.loadTiny());
    queue = new RunQueue(maxRunning);
    // Long stall: these tests hold pushes open on purpose.
    gate = new SwapPriorityGate(TimeUnit.SECONDS.toNanos(60));
    policy =
        new Policy(
            registry,
            LIMITS,
            "swap-test",
            PolicyMetrics.disabled(),
            new ChatPromptEncoder(Optional.empty(), "swap-test"),
            new WorkScheduler(queue, gate, PolicyMetrics.disabled()));
    String name = InProcessServerBuilder.generateName();
    server =
        InProcessServerBuilder.forName(name)
            .addService(new PolicyGrpcService(policy))
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  @AfterEach
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      registry.close();
    }
  }

  @Test
  void decodeStepsPauseWhileAPushRunsAndRunningRequestsKeepTheirVersion() throws Exception {
    start(2);
    byte[] v2 = ServingFixtures.weights(202);
    Steps steps = new Steps(3);
    CompletableFuture<GenerateResponse> inFlight =
        CompletableFuture.supplyAsync(() -> policy.generate(request(11, 40), steps));
    assertTrue(steps.held.await(30, TimeUnit.SECONDS), "the request never reached step 3");

    PartialPush push = new PartialPush(channel, 2, v2);
    push.send(v2.length / 2);
    awaitGate(false);
    steps.resume.countDown();
    Thread.sleep(400);
    assertEquals(3, steps.count.get(), "decode steps advanced while a push was receiving");
    assertFalse(inFlight.isDone());
    // A request arriving during the push waits for it and then runs on the new version.
    CompletableFuture<GenerateResponse> arrivedDuringPush =
        CompletableFuture.supplyAsync(() -> policy.generate(request(12, 4), () -> false));
    Thread.sleep(200);
    assertFalse(arrivedDuringPush.isDone(), "a request ran while a push held swap priority");

    assertEquals(2, push.finish().getLiveVersion());
    GenerateResponse old = inFlight.get(30, TimeUnit.SECONDS);
    assertTrue(steps.count.get() > 3, "the paused request did not resume");
    assertEquals(1, old.getPolicyVersion());
    for (Completion c : old.getCompletionsList()) {
      assertEquals(1, c.getPolicyVersion());
    }
    assertEquals(2, arrivedDuringPush.get(30, TimeUnit.SECONDS).getPolicyVersion());
    assertEquals(2, policy.generate(request(13, 4), () -> false).getPolicyVersion());
    assertTrue(gate.isOpen());
  }

  @Test
  void atMostNRequestsDecodeAtOnceAndQueuedOnesComplete() throws Exception {
    start(2);
    Set<Thread> decoding = ConcurrentHashMap.newKeySet();
    CountDownLatch release = new CountDownLatch(1);
    List<CompletableFuture<GenerateResponse>> calls = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      int seed = 20 + i;
      calls.add(
          CompletableFuture.supplyAsync(
              () ->
                  policy.generate(
                      request(seed, 4),
                      () -> {
                        if (inDecodeLoop()) {
                          decoding.add(Thread.currentThread());
                          await(release);
                        }
                        return false;
                      })));
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (decoding.size() < 2 || queue.waiting() < 3) {
      assertTrue(System.nanoTime() < deadline, decoding.size() + " decoding");
      Thread.sleep(10);
    }
    Thread.sleep(400);
    assertEquals(2, decoding.size(), "more decode loops than the bound");
    assertEquals(3, queue.waiting());
    assertEquals(2, queue.running());
    release.countDown();
    for (CompletableFuture<GenerateResponse> call : calls) {
      assertEquals(1, call.get(30, TimeUnit.SECONDS).getPolicyVersion());
    }
    assertEquals(5, decoding.size());
    assertEquals(0, queue.running());
  }

  @Test
  void aCancelledQueuedRequestLeavesTheQueue() throws Exception {
    start(1);
    Steps running = new Steps(1);
    CompletableFuture<GenerateResponse> first = holdTheOnlySlot(running);
    AtomicBoolean cancelled = new AtomicBoolean();
    CompletableFuture<GenerateResponse> queued =
        CompletableFuture.supplyAsync(() -> policy.generate(request(31, 4), cancelled::get));
    awaitWaiting(1);
    cancelled.set(true);
    ExecutionException e =
        assertThrows(ExecutionException.class, () -> queued.get(5, TimeUnit.SECONDS));
    assertEquals(Status.Code.CANCELLED, ((RefusedRequestException) e.getCause()).code());
    assertEquals(0, queue.waiting());
    running.resume.countDown();
    assertEquals(1, first.get(30, TimeUnit.SECONDS).getPolicyVersion());
  }

  @Test
  void aQueuedCallPastItsDeadlineLeavesTheQueue() throws Exception {
    start(1);
    Steps running = new Steps(1);
    CompletableFuture<GenerateResponse> first = holdTheOnlySlot(running);
    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                PolicyServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(300, TimeUnit.MILLISECONDS)
                    .generate(request(41, 4)));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
    awaitWaiting(0);
    running.resume.countDown();
    first.get(30, TimeUnit.SECONDS);
  }

  @Test
  void aFailedPushReleasesTheGateAndLeavesTheLiveVersion() throws Exception {
    start(2);
    // Weights of another shape: the stream is fine, the load refuses them.
    byte[] wrongShape =
        Files.readAllBytes(
            TestModels.write(new TinyModelSpec(48, 2, 4, 2, 64, 64), 5)
                .resolve("model.safetensors"));
    PartialPush refused = new PartialPush(channel, 2, wrongShape);
    refused.send(wrongShape.length);
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, refused::finish);
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertTrue(gate.isOpen(), "a refused push kept swap priority");

    // A stream the client abandons half-way.
    byte[] v2 = ServingFixtures.weights(203);
    PartialPush abandoned = new PartialPush(channel, 2, v2);
    abandoned.send(v2.length / 2);
    awaitGate(false);
    abandoned.cancel();
    awaitGate(true);

    assertEquals(1, registry.liveVersion());
    assertEquals(1, policy.generate(request(50, 4), () -> false).getPolicyVersion());
    assertEquals(2, ServingFixtures.push(channel, 2, v2).getLiveVersion());
    assertTrue(gate.isOpen());
  }

  /** Starts a request that holds its run slot at its first step until {@code steps} resumes. */
  private CompletableFuture<GenerateResponse> holdTheOnlySlot(Steps steps) throws Exception {
    CompletableFuture<GenerateResponse> call =
        CompletableFuture.supplyAsync(() -> policy.generate(request(30, 4), steps));
    assertTrue(steps.held.await(30, TimeUnit.SECONDS));
    return call;
  }

  private static GenerateRequest request(long seed, int maxNewTokens) {
    return GenerateRequest.newBuilder()
        .addPrompts("the cat sat")
        .setNumSamples(8)
        .setSampling(
            SamplingParams.newBuilder()
                .setMaxNewTokens(maxNewTokens)
                .setTemperature(1f)
                .setSeed(seed))
        .build();
  }

  /**
   * Whether the caller of a {@code cancelled} poll is the sampler between decode steps (not the
   * queue or the gate re-checking cancellation while the request waits).
   */
  private static boolean inDecodeLoop() {
    return StackWalker.getInstance()
        .walk(
            frames ->
                frames.noneMatch(
                    f ->
                        f.getClassName().equals(RunQueue.class.getName())
                            || f.getClassName().equals(SwapPriorityGate.class.getName())));
  }

  private static void await(CountDownLatch latch) {
    try {
      assertTrue(latch.await(30, TimeUnit.SECONDS));
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  private void awaitGate(boolean open) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (gate.isOpen() != open) {
      assertTrue(System.nanoTime() < deadline, "gate never " + (open ? "opened" : "closed"));
      Thread.sleep(5);
    }
  }

  private void awaitWaiting(int n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (queue.waiting() != n) {
      assertTrue(System.nanoTime() < deadline, "waiting " + queue.waiting() + ", expected " + n);
      Thread.sleep(5);
    }
  }

  /** Counts decode steps and holds the loop at step {@code holdAt} until {@link #resume}. */
  private static final class Steps implements BooleanSupplier {
    final AtomicInteger count = new AtomicInteger();
    final CountDownLatch held = new CountDownLatch(1);
    final CountDownLatch resume = new CountDownLatch(1);
    private final int holdAt;

    Steps(int holdAt) {
      this.holdAt = holdAt;
    }

    @Override
    public boolean getAsBoolean() {
      if (inDecodeLoop() && count.incrementAndGet() == holdAt) {
        held.countDown();
        await(resume);
      }
      return false;
    }
  }

  /** A PushWeights stream sent piece by piece. */
  private static final class PartialPush {
    private final StreamObserver<WeightChunk> stream;
    private final CompletableFuture<PushWeightsResponse> response = new CompletableFuture<>();
    private final byte[] data;
    private int sent;

    PartialPush(ManagedChannel channel, long version, byte[] data) {
      this.data = data;
      stream = PolicyServiceGrpc.newStub(channel).pushWeights(ServingFixtures.into(response));
      stream.onNext(
          WeightChunk.newBuilder()
              .setHeader(
                  WeightHeader.newBuilder()
                      .setVersion(version)
                      .setFormat("safetensors")
                      .setTotalBytes(data.length)
                      .setSha256Hex(ServingFixtures.sha256(data)))
              .build());
    }

    /** Sends data up to byte {@code to}. */
    void send(int to) {
      for (; sent < to; sent += Math.min(4096, to - sent)) {
        stream.onNext(
            WeightChunk.newBuilder()
                .setData(ByteString.copyFrom(data, sent, Math.min(4096, to - sent)))
                .build());
      }
    }

    /** Sends the rest, ends the stream and returns the answer (or throws its status). */
    PushWeightsResponse finish() throws Exception {
      send(data.length);
      stream.onCompleted();
      try {
        return response.get(30, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        throw (Exception) e.getCause();
      }
    }

    void cancel() {
      stream.onError(Status.CANCELLED.withDescription("test gives up").asRuntimeException());
    }
  }
}

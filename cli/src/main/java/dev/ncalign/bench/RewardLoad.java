package dev.ncalign.bench;

import dev.ncalign.proto.v1.RewardServiceGrpc;
import dev.ncalign.proto.v1.ScoreRequest;
import dev.ncalign.proto.v1.ScoreResponse;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Closed-loop load on a reward server: {@code callers} concurrent callers, each with one Score call
 * in flight at a time and sending the next as soon as the previous answers, like {@code callers}
 * clients that each score one item at a time. Callers run on the channel's threads (asynchronous
 * stubs), so no client thread sits blocked and the load generator takes little CPU from the server
 * it measures in the same process.
 */
final class RewardLoad {

  /** Longest any single call may take before the run fails. */
  private static final long CALL_DEADLINE_SECONDS = 60;

  private final RewardServiceGrpc.RewardServiceStub stub;
  private final List<ScoreRequest> requests;
  private final AtomicLong answered = new AtomicLong();
  private final AtomicLong sent = new AtomicLong();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private volatile boolean stopping;
  private CountDownLatch finished;

  /**
   * @param channel a channel to the server under load
   * @param requests what the callers send, in turn
   */
  RewardLoad(ManagedChannel channel, List<ScoreRequest> requests) {
    if (requests.isEmpty()) {
      throw new IllegalArgumentException("no requests to send");
    }
    this.stub = RewardServiceGrpc.newStub(channel);
    this.requests = requests;
  }

  /** Starts {@code callers} callers; they run until {@link #stop}. */
  void start(int callers) {
    if (callers < 1) {
      throw new IllegalArgumentException("callers must be at least 1, got " + callers);
    }
    finished = new CountDownLatch(callers);
    for (int caller = 0; caller < callers; caller++) {
      send();
    }
  }

  /** Score calls answered so far (each carries {@link #itemsPerCall} items). */
  long answered() {
    return answered.get();
  }

  /**
   * Waits until {@code count} calls in all have been answered: with {@code count} = callers, the
   * first call of each caller (connection set-up, first runs of the code paths) is behind.
   */
  void awaitAnswered(long count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CALL_DEADLINE_SECONDS);
    while (answered.get() < count && failure.get() == null) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            count + " calls not answered within " + CALL_DEADLINE_SECONDS + " s");
      }
      Thread.sleep(1);
    }
  }

  /** Tells every caller to stop after its call in flight and waits until they have. */
  void stop() throws InterruptedException {
    stopping = true;
    if (!finished.await(CALL_DEADLINE_SECONDS, TimeUnit.SECONDS)) {
      throw new IllegalStateException(
          "callers did not finish within " + CALL_DEADLINE_SECONDS + " s");
    }
    Throwable error = failure.get();
    if (error != null) {
      throw new IllegalStateException("a Score call failed: " + error.getMessage(), error);
    }
  }

  /** Items in one request (the first; all requests of a run have the same size). */
  int itemsPerCall() {
    return requests.get(0).getItemsCount();
  }

  private void send() {
    ScoreRequest request = requests.get((int) (sent.getAndIncrement() % requests.size()));
    stub.withDeadlineAfter(CALL_DEADLINE_SECONDS, TimeUnit.SECONDS)
        .score(
            request,
            new StreamObserver<>() {
              @Override
              public void onNext(ScoreResponse response) {
                if (response.getRewardsCount() != request.getItemsCount()) {
                  failure.compareAndSet(
                      null,
                      new IllegalStateException(
                          response.getRewardsCount()
                              + " rewards for "
                              + request.getItemsCount()
                              + " items"));
                }
              }

              @Override
              public void onError(Throwable error) {
                failure.compareAndSet(null, error);
                finished.countDown();
              }

              @Override
              public void onCompleted() {
                answered.incrementAndGet();
                if (stopping || failure.get() != null) {
                  finished.countDown();
                } else {
                  send();
                }
              }
            });
  }
}

package dev.ncalign.policy.scheduling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ncalign.serving.RefusedRequestException;
import io.grpc.Status;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class RunQueueTest {

  @Test
  void admitsAtMostNAndHandsSlotsOnInArrivalOrder() throws Exception {
    RunQueue queue = new RunQueue(2);
    RunQueue.Slot first = queue.enter(() -> false);
    RunQueue.Slot second = queue.enter(() -> false);
    assertEquals(2, queue.running());
    List<Integer> admitted = new CopyOnWriteArrayList<>();
    CompletableFuture<RunQueue.Slot> third = waitFor(queue, 3, admitted);
    awaitWaiting(queue, 1);
    CompletableFuture<RunQueue.Slot> fourth = waitFor(queue, 4, admitted);
    awaitWaiting(queue, 2);
    Thread.sleep(200);
    assertFalse(third.isDone() || fourth.isDone(), "a third request ran beside two");

    first.close();
    third.get(5, TimeUnit.SECONDS);
    Thread.sleep(200);
    assertFalse(fourth.isDone(), "one freed slot admitted two requests");
    first.close(); // twice: no second slot
    Thread.sleep(200);
    assertFalse(fourth.isDone(), "closing a slot twice freed two");
    second.close();
    fourth.get(5, TimeUnit.SECONDS);
    assertEquals(List.of(3, 4), admitted);
    assertEquals(2, queue.running());
    assertEquals(0, queue.waiting());
    third.get().close();
    fourth.get().close();
    assertEquals(0, queue.running());
  }

  @Test
  void aCancelledRequestLeavesTheQueue() throws Exception {
    RunQueue queue = new RunQueue(1);
    RunQueue.Slot running = queue.enter(() -> false);
    AtomicBoolean cancelled = new AtomicBoolean();
    CompletableFuture<RunQueue.Slot> waiting =
        CompletableFuture.supplyAsync(() -> queue.enter(cancelled::get));
    awaitWaiting(queue, 1);
    cancelled.set(true);
    ExecutionException e =
        assertThrows(ExecutionException.class, () -> waiting.get(5, TimeUnit.SECONDS));
    RefusedRequestException refused = (RefusedRequestException) e.getCause();
    assertEquals(Status.Code.CANCELLED, refused.code());
    assertEquals(0, queue.waiting());
    // The cancelled request took no slot: the next one gets the freed slot.
    running.close();
    queue.enter(() -> false).close();
    assertEquals(0, queue.running());
  }

  @Test
  void refusesABoundBelowOne() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new RunQueue(0));
    assertTrue(e.getMessage().contains("≥ 1"), e.getMessage());
  }

  private static CompletableFuture<RunQueue.Slot> waitFor(
      RunQueue queue, int id, List<Integer> admitted) {
    return CompletableFuture.supplyAsync(
        () -> {
          RunQueue.Slot slot = queue.enter(() -> false);
          admitted.add(id);
          return slot;
        });
  }

  static void awaitWaiting(RunQueue queue, int n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (queue.waiting() != n) {
      assertTrue(System.nanoTime() < deadline, "waiting " + queue.waiting() + ", expected " + n);
      Thread.sleep(5);
    }
  }
}

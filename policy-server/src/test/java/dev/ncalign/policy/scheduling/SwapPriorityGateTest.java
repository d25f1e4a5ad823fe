package dev.ncalign.policy.scheduling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class SwapPriorityGateTest {

  private static final long LONG_STALL = TimeUnit.SECONDS.toNanos(60);

  @Test
  void anOpenGateDoesNotWait() {
    assertEquals(0, new SwapPriorityGate(LONG_STALL).awaitOpen(() -> false));
  }

  @Test
  void workWaitsUntilEveryHoldIsClosed() throws Exception {
    SwapPriorityGate gate = new SwapPriorityGate(LONG_STALL);
    SwapPriorityGate.Hold first = gate.hold();
    SwapPriorityGate.Hold second = gate.hold();
    assertFalse(gate.isOpen());
    CompletableFuture<Long> waiter =
        CompletableFuture.supplyAsync(() -> gate.awaitOpen(() -> false));
    Thread.sleep(200);
    assertFalse(waiter.isDone(), "work ran while two pushes held the gate");
    first.close();
    first.close();
    Thread.sleep(200);
    assertFalse(waiter.isDone(), "work ran while a push held the gate");
    second.close();
    long waited = waiter.get(5, TimeUnit.SECONDS);
    assertTrue(waited > 0, "waited " + waited + " ns");
    assertTrue(gate.isOpen());
  }

  @Test
  void aQuietReceivingPushStopsHoldingButALoadingOneDoesNot() throws Exception {
    SwapPriorityGate gate = new SwapPriorityGate(TimeUnit.MILLISECONDS.toNanos(300));
    SwapPriorityGate.Hold receiving = gate.hold();
    assertFalse(gate.isOpen());
    long waited = gate.awaitOpen(() -> false);
    assertTrue(gate.isOpen(), "a stalled push still holds the gate");
    assertTrue(waited > 0, "returned at once while a push had just started");
    receiving.received();
    assertFalse(gate.isOpen(), "a chunk after a stall takes the gate back");

    receiving.loading();
    CompletableFuture<Long> waiter =
        CompletableFuture.supplyAsync(() -> gate.awaitOpen(() -> false));
    Thread.sleep(800);
    assertFalse(waiter.isDone(), "a loading push stopped holding after the stall time");
    receiving.close();
    waiter.get(5, TimeUnit.SECONDS);
  }

  @Test
  void aCancelledRequestStopsWaiting() throws Exception {
    SwapPriorityGate gate = new SwapPriorityGate(LONG_STALL);
    try (SwapPriorityGate.Hold hold = gate.hold()) {
      AtomicBoolean cancelled = new AtomicBoolean();
      CompletableFuture<Long> waiter =
          CompletableFuture.supplyAsync(() -> gate.awaitOpen(cancelled::get));
      Thread.sleep(150);
      assertFalse(waiter.isDone());
      cancelled.set(true);
      waiter.get(5, TimeUnit.SECONDS);
      assertFalse(gate.isOpen());
    }
  }
}

package dev.ncalign.orchestrator.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class ShardsTest {

  @Test
  void oneSlicePerReplicaBalanced() {
    assertEquals(
        List.of(List.of(1, 2, 3), List.of(4, 5), List.of(6, 7)),
        Shards.split(List.of(1, 2, 3, 4, 5, 6, 7), 3, 0));
  }

  @Test
  void neverMoreSlicesThanItemsUnlessALimitForcesIt() {
    assertEquals(List.of(List.of(1), List.of(2)), Shards.split(List.of(1, 2), 5, 0));
    assertEquals(
        List.of(List.of(1, 2), List.of(3, 4), List.of(5)),
        Shards.split(List.of(1, 2, 3, 4, 5), 1, 2));
    assertEquals(List.of(List.of()), Shards.split(List.of(), 3, 2));
  }
}

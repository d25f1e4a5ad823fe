package dev.ncalign.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.ncalign.lm.lora.PeftAdapterDirectory;
import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.orchestrator.config.ConfigLoader;
import dev.ncalign.orchestrator.config.RunConfig;
import dev.ncalign.orchestrator.loop.AlignmentRun;
import dev.ncalign.orchestrator.loop.RoundListener;
import dev.ncalign.orchestrator.store.RoundMetrics;
import dev.ncalign.orchestrator.store.RunStore;
import dev.ncalign.proto.v1.LogprobsItem;
import dev.ncalign.proto.v1.LogprobsResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An online LoRA run end to end: adapter pushes, the served model equals the checkpointed base +
 * adapter, PEFT checkpoints, and a resume that loses and repeats nothing.
 */
class LoraLoopTest {
  @TempDir Path tmp;

  private static RunConfig config(Path dir, int rounds) {
    return ConfigLoader.parse(
        TestAssets.config(dir, "online", rounds, "lora: {rank: 4, alpha: 8}"), List.of());
  }

  @Test
  void aLoraRunServesBasePlusAdapterAndResumesExactly() {
    Path whole = tmp.resolve("whole");
    List<Float> served;
    List<LogprobsItem> items =
        List.of(
            LogprobsItem.newBuilder()
                .setPrompt("review of the lamp :")
                .setResponse("great lamp , works well .")
                .build());
    try (AlignmentRun run = AlignmentRun.open(config(whole, 2), false, List.of())) {
      run.run();
      LogprobsResponse response = run.policyClient().logprobs(items);
      assertEquals(3, response.getPolicyVersion());
      served = response.getResults(0).getTokenLogprobsList();
    }
    Path checkpoint = whole.resolve("checkpoints/round-0002");
    assertTrue(PeftAdapterDirectory.isAdapter(checkpoint));
    assertFalse(Files.exists(checkpoint.resolve("model.safetensors")), "no full weights saved");
    try (CausalLm base = CausalLm.load(TestAssets.policy(), Device.cpu());
        CausalLm learned = base.withAdapter(PeftAdapterDirectory.load(checkpoint, base));
        NDManager scope = base.manager().newSubManager()) {
      float[] expected =
          learned
              .logprobs(
                  scope,
                  List.of(base.codec().encodePrompt(items.get(0).getPrompt())),
                  List.of(base.codec().encodeResponse(items.get(0).getResponse())),
                  false)
              .tokenLogprobs()
              .toFloatArray();
      assertEquals(expected.length, served.size());
      for (int i = 0; i < expected.length; i++) {
        assertEquals(expected[i], served.get(i), 1e-4, "token " + i);
      }
    }

    Path resumed = tmp.resolve("resumed");
    RoundListener killAfterRoundOne =
        (m, b) -> {
          if (m.round() == 1) {
            throw new IllegalStateException("killed");
          }
        };
    try (AlignmentRun run =
        AlignmentRun.open(config(resumed, 2), false, List.of(killAfterRoundOne))) {
      assertThrows(IllegalStateException.class, run::run);
    }
    try (AlignmentRun run = AlignmentRun.open(config(resumed, 2), true, List.of())) {
      assertEquals(2, run.firstRound());
      run.run();
    }
    List<RoundMetrics> a = RunStore.open(whole).metrics();
    List<RoundMetrics> b = RunStore.open(resumed).metrics();
    assertEquals(List.of(1, 2), b.stream().map(RoundMetrics::round).toList());
    for (int i = 0; i < 2; i++) {
      assertEquals(a.get(i).meanReward(), b.get(i).meanReward(), 1e-5, "round " + (i + 1));
      assertEquals(a.get(i).loss(), b.get(i).loss(), 1e-4, "round " + (i + 1));
      assertEquals(a.get(i).bestLogpAfter(), b.get(i).bestLogpAfter(), 1e-3, "round " + (i + 1));
    }
  }
}

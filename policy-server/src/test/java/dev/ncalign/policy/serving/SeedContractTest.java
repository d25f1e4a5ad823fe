package dev.ncalign.policy.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.ncalign.lm.model.TestModels;
import dev.ncalign.proto.v1.Completion;
import dev.ncalign.proto.v1.GenerateRequest;
import dev.ncalign.proto.v1.SamplingParams;
import dev.ncalign.serving.TextLimit;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What a seed promises: the same completions however a client splits its prompts across requests
 * (replicas), seed 0 like any other seed, and a fresh draw only when no seed is set.
 */
class SeedContractTest {

  private static final List<String> PROMPTS = List.of("the cat", "a big dog", "hello world .");

  private static PolicyRegistry registry;
  private static Policy policy;

  @BeforeAll
  static void start() {
    registry = new PolicyRegistry(TestModels.loadTiny());
    policy =
        new Policy(
            registry,
            new PolicyLimits(4, 4, 16, 1 << 20, new TextLimit(TextLimit.DEFAULT_MAX_CHARS)),
            "seed-test");
  }

  @AfterAll
  static void stop() {
    registry.close();
  }

  @Test
  void aBatchSplitAcrossRequestsSamplesWhatOneRequestSamples() throws Exception {
    List<List<Integer>> whole = ids(generate(PROMPTS, sampling().setSeed(42)));
    List<List<Integer>> parts = new ArrayList<>();
    for (int p = 0; p < PROMPTS.size(); p++) {
      parts.addAll(
          ids(generate(List.of(PROMPTS.get(p)), sampling().setSeed(42).setFirstPromptIndex(p))));
    }
    assertEquals(whole, parts);
    // Without the offset each part would replay prompt 0's streams: the split would show.
    List<List<Integer>> unshifted = new ArrayList<>();
    for (String prompt : PROMPTS) {
      unshifted.addAll(ids(generate(List.of(prompt), sampling().setSeed(42))));
    }
    assertNotEquals(whole, unshifted);
  }

  @Test
  void seedZeroIsASeedAndNoSeedIsAFreshDraw() throws Exception {
    assertEquals(
        ids(generate(PROMPTS, sampling().setSeed(0))),
        ids(generate(PROMPTS, sampling().setSeed(0))));
    assertNotEquals(
        ids(generate(PROMPTS, sampling().setSeed(0))),
        ids(generate(PROMPTS, sampling().setSeed(1))));
    assertNotEquals(ids(generate(PROMPTS, sampling())), ids(generate(PROMPTS, sampling())));
  }

  private static SamplingParams.Builder sampling() {
    return SamplingParams.newBuilder().setMaxNewTokens(12).setTemperature(1f);
  }

  private static List<Completion> generate(List<String> prompts, SamplingParams.Builder sampling)
      throws Exception {
    return policy
        .generate(
            GenerateRequest.newBuilder()
                .addAllPrompts(prompts)
                .setNumSamples(3)
                .setSampling(sampling)
                .build(),
            () -> false)
        .getCompletionsList();
  }

  private static List<List<Integer>> ids(List<Completion> completions) {
    return completions.stream().map(Completion::getTokenIdsList).toList();
  }
}

package dev.ncalign.lm.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.ncalign.lm.model.AttentionMask;
import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.lm.model.KvCache;
import dev.ncalign.lm.model.TestModels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SamplerTest {

  private static final List<String> PROMPTS =
      List.of("the cat sat on the", "", "hello world and a big red");
  private static CausalLm lm;
  private final Sampler sampler = new Sampler();

  @BeforeAll
  static void load() {
    lm = TestModels.loadTiny();
    // Sharper than the N(0, 0.02) init so that samples differ and greedy choices are not near-ties.
    TestModels.randomize(lm, 5, 0.25);
  }

  @AfterAll
  static void close() {
    lm.close();
  }

  @Test
  void kvCacheIncrementalLogitsEqualFullForward() {
    int[] ids = {1, 4, 9, 12, 5, 30, 8, 17, 2, 11};
    int vocab = lm.config().vocabSize();
    try (NDManager scope = lm.manager().newSubManager()) {
      float[] full =
          lm.forward(
                  longs(scope, ids, 0, ids.length),
                  scope.arange(0f, ids.length).reshape(1, -1),
                  AttentionMask.causal(scope, ids.length),
                  null)
              .toFloatArray();
      KvCache cache = new KvCache(scope, lm.config().numHiddenLayers(), ids.length);
      int prefill = 4;
      float[] incremental = new float[ids.length * vocab];
      float[] first =
          lm.forward(
                  longs(scope, ids, 0, prefill),
                  scope.arange(0f, prefill).reshape(1, -1),
                  AttentionMask.causal(scope, prefill),
                  cache)
              .toFloatArray();
      System.arraycopy(first, 0, incremental, 0, first.length);
      for (int t = prefill; t < ids.length; t++) {
        float[] step =
            lm.forward(
                    longs(scope, ids, t, t + 1),
                    scope.create(new float[] {t}, new Shape(1, 1)),
                    AttentionMask.leftPadded(scope, new int[] {0}, 1, t + 1),
                    cache)
                .toFloatArray();
        System.arraycopy(step, 0, incremental, t * vocab, vocab);
      }
      assertEquals(ids.length, cache.length());
      for (int i = 0; i < full.length; i++) {
        assertEquals(full[i], incremental[i], 1e-4, "logit " + i);
      }
    }
  }

  @Test
  void sampledLogprobsEqualRecomputedLogprobs() {
    SamplingOptions truncated = new SamplingOptions(12, 0.8f, 0.9f, 10, 17, List.of());
    for (SamplingOptions options : List.of(SamplingOptions.of(12, 3), truncated)) {
      List<SampledSequence> samples = sampler.generate(lm, PROMPTS, 3, options, () -> false);
      assertEquals(PROMPTS.size() * 3, samples.size());
      List<int[]> prompts = new ArrayList<>();
      List<int[]> responses = new ArrayList<>();
      for (SampledSequence s : samples) {
        prompts.add(lm.codec().encodePrompt(PROMPTS.get(s.promptIndex())));
        responses.add(s.tokenIds());
      }
      try (NDManager scope = lm.manager().newSubManager()) {
        float[][] expected = rows(lm.logprobs(scope, prompts, responses, false).tokenLogprobs());
        for (int i = 0; i < samples.size(); i++) {
          SampledSequence s = samples.get(i);
          assertEquals(i / 3, s.promptIndex());
          assertEquals(i % 3, s.sampleIndex());
          for (int j = 0; j < s.tokenIds().length; j++) {
            assertEquals(expected[i][j], s.tokenLogprobs()[j], 1e-4, "sample " + i + " token " + j);
          }
          assertEquals(sum(s.tokenLogprobs()), s.sumLogprob(), 1e-9);
        }
      }
    }
  }

  @Test
  void sameSeedSameOutputDifferentSeedDifferentOutput() {
    List<SampledSequence> a =
        sampler.generate(lm, PROMPTS, 4, SamplingOptions.of(10, 99), () -> false);
    List<SampledSequence> b =
        sampler.generate(lm, PROMPTS, 4, SamplingOptions.of(10, 99), () -> false);
    List<SampledSequence> c =
        sampler.generate(lm, PROMPTS, 4, SamplingOptions.of(10, 100), () -> false);
    for (int i = 0; i < a.size(); i++) {
      assertArrayEquals(a.get(i).tokenIds(), b.get(i).tokenIds());
      assertEquals(a.get(i).text(), b.get(i).text());
    }
    assertNotEquals(texts(a), texts(c));
    // K samples of one prompt are not copies of each other.
    assertTrue(texts(a).subList(0, 4).stream().distinct().count() > 1);
  }

  @Test
  void batchedGenerationEqualsOneByOne() {
    // Greedy, so that only padding and batching could make a difference.
    SamplingOptions greedy = SamplingOptions.greedy(8);
    List<SampledSequence> batched = sampler.generate(lm, PROMPTS, 2, greedy, () -> false);
    for (int p = 0; p < PROMPTS.size(); p++) {
      SampledSequence alone =
          sampler.generate(lm, List.of(PROMPTS.get(p)), 1, greedy, () -> false).get(0);
      for (int s = 0; s < 2; s++) {
        SampledSequence inBatch = batched.get(p * 2 + s);
        assertArrayEquals(alone.tokenIds(), inBatch.tokenIds(), "prompt " + p);
        for (int j = 0; j < alone.tokenIds().length; j++) {
          assertEquals(alone.tokenLogprobs()[j], inBatch.tokenLogprobs()[j], 1e-5);
        }
      }
    }
    // Sampling: a row's random stream depends on (seed, prompt index, sample index) only.
    SamplingOptions sampled = SamplingOptions.of(8, 7);
    List<SampledSequence> together = sampler.generate(lm, PROMPTS, 3, sampled, () -> false);
    List<SampledSequence> first =
        sampler.generate(lm, PROMPTS.subList(0, 1), 3, sampled, () -> false);
    for (int s = 0; s < 3; s++) {
      assertArrayEquals(first.get(s).tokenIds(), together.get(s).tokenIds());
    }
  }

  @Test
  void stopsAtEosAtStopStringsAndAtLength() {
    // Greedy continuation, then use one of its words as a stop string.
    SampledSequence free =
        sampler.generate(lm, List.of("the cat"), 1, SamplingOptions.greedy(10), () -> false).get(0);
    String[] words = free.text().split(" ");
    assertTrue(words.length >= 2, free.text());
    String stop = words[1];
    SampledSequence stopped =
        sampler
            .generate(
                lm,
                List.of("the cat"),
                1,
                new SamplingOptions(10, 0f, 1f, 0, 0, List.of(stop)),
                () -> false)
            .get(0);
    assertEquals(FinishReason.STOP, stopped.finishReason());
    assertFalse(stopped.text().contains(stop), stopped.text());
    assertEquals(stopped.tokenIds().length, stopped.tokenLogprobs().length);
    assertEquals(lm.codec().decode(stopped.tokenIds()), stopped.text());

    for (SampledSequence s :
        sampler.generate(lm, PROMPTS, 4, SamplingOptions.of(6, 1), () -> false)) {
      int[] ids = s.tokenIds();
      boolean endsWithEos = ids.length > 0 && lm.codec().isEos(ids[ids.length - 1]);
      assertEquals(endsWithEos ? FinishReason.STOP : FinishReason.LENGTH, s.finishReason());
      assertTrue(ids.length <= 6);
      assertTrue(endsWithEos || ids.length == 6);
    }
  }

  @Test
  void contextWindowEndsGenerationAndTooLongPromptsAreRejected() {
    int context = lm.config().maxPositionEmbeddings();
    String longPrompt = "cat ".repeat(context - 3).trim();
    SampledSequence s =
        sampler
            .generate(
                lm,
                List.of(longPrompt),
                1,
                new SamplingOptions(50, 0f, 1f, 0, 0, List.of()),
                () -> false)
            .get(0);
    assertTrue(s.tokenIds().length <= 2);
    assertTrue(
        s.finishReason() == FinishReason.LENGTH
            || lm.codec().isEos(s.tokenIds()[s.tokenIds().length - 1]));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                sampler.generate(
                    lm,
                    List.of("ok", "cat ".repeat(context)),
                    1,
                    SamplingOptions.of(4, 1),
                    () -> false));
    assertTrue(e.getMessage().contains("prompts[1]"), e.getMessage());
  }

  @Test
  void cancellationStopsBetweenSteps() {
    int[] polls = {0};
    List<SampledSequence> out =
        sampler.generate(lm, PROMPTS, 2, SamplingOptions.of(40, 4), () -> ++polls[0] > 2);
    for (SampledSequence s : out) {
      assertTrue(s.tokenIds().length <= 3, Arrays.toString(s.tokenIds()));
      if (s.finishReason() != FinishReason.STOP) {
        assertEquals(FinishReason.CANCELLED, s.finishReason());
      }
    }
  }

  @Test
  void memoryBetweenDecodeStepsDoesNotGrow() {
    // Polled between decode steps: count the arrays alive under the model's manager (weights,
    // cache buffers; step scratch is closed by then).
    List<Long> arrays = new ArrayList<>();
    List<Long> bytes = new ArrayList<>();
    sampler.generate(
        lm,
        PROMPTS,
        2,
        SamplingOptions.of(30, 11),
        () -> {
          List<NDArray> live = lm.manager().getManagedArrays();
          arrays.add((long) live.size());
          bytes.add(live.stream().mapToLong(a -> a.size() * a.getDataType().getNumOfBytes()).sum());
          return false;
        });
    assertTrue(arrays.size() >= 16, "decode steps: " + arrays.size());
    // Rows that finish leave the batch, so memory may shrink, never grow.
    assertTrue(arrays.get(15) <= arrays.get(7), arrays.toString());
    assertTrue(bytes.get(15) <= bytes.get(7), bytes.toString());
    assertTrue(bytes.get(bytes.size() - 1) <= bytes.get(0), bytes.toString());
  }

  @Test
  void topKOneIsGreedy() {
    SampledSequence greedy =
        sampler.generate(lm, List.of("a small"), 1, SamplingOptions.greedy(8), () -> false).get(0);
    SampledSequence topOne =
        sampler
            .generate(
                lm,
                List.of("a small"),
                1,
                new SamplingOptions(8, 1.3f, 1f, 1, 12, List.of()),
                () -> false)
            .get(0);
    SampledSequence tinyNucleus =
        sampler
            .generate(
                lm,
                List.of("a small"),
                1,
                new SamplingOptions(8, 1f, 1e-6f, 0, 12, List.of()),
                () -> false)
            .get(0);
    assertArrayEquals(greedy.tokenIds(), topOne.tokenIds());
    assertArrayEquals(greedy.tokenIds(), tinyNucleus.tokenIds());
  }

  private static NDArray longs(NDManager scope, int[] ids, int from, int to) {
    return scope.create(
        Arrays.stream(ids, from, to).asLongStream().toArray(), new Shape(1, to - from));
  }

  private static float[][] rows(NDArray matrix) {
    int n = (int) matrix.getShape().get(0);
    int width = (int) matrix.getShape().get(1);
    float[] flat = matrix.toFloatArray();
    float[][] out = new float[n][];
    for (int i = 0; i < n; i++) {
      out[i] = Arrays.copyOfRange(flat, i * width, (i + 1) * width);
    }
    return out;
  }

  private static double sum(float[] values) {
    double total = 0;
    for (float v : values) {
      total += v;
    }
    return total;
  }

  private static List<String> texts(List<SampledSequence> samples) {
    return samples.stream().map(SampledSequence::text).toList();
  }
}

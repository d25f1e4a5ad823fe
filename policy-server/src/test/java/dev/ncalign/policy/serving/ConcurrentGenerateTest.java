package dev.ncalign.policy.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ncalign.lm.model.TestModels;
import dev.ncalign.proto.v1.GenerateRequest;
import dev.ncalign.proto.v1.GenerateResponse;
import dev.ncalign.proto.v1.SamplingParams;
import dev.ncalign.serving.TextLimit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Generate calls running at the same time on one model give what they give one at a time. */
class ConcurrentGenerateTest {

  @Test
  void concurrentCallsMatchSequentialOnes() throws Exception {
    try (PolicyRegistry registry = new PolicyRegistry(TestModels.loadTiny())) {
      Policy policy =
          new Policy(
              registry,
              new PolicyLimits(4, 4, 8, 1 << 20, new TextLimit(TextLimit.DEFAULT_MAX_CHARS)),
              "concurrency-test");
      List<GenerateRequest> requests = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        requests.add(
            GenerateRequest.newBuilder()
                .addPrompts("the cat")
                .addPrompts("a big dog " + i)
                .setNumSamples(2)
                .setSampling(
                    SamplingParams.newBuilder()
                        .setMaxNewTokens(6)
                        .setTemperature(1f)
                        .setSeed(i + 1))
                .build());
      }
      List<GenerateResponse> sequential = new ArrayList<>();
      for (GenerateRequest r : requests) {
        sequential.add(policy.generate(r, () -> false));
      }
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        List<Future<GenerateResponse>> concurrent = new ArrayList<>();
        for (GenerateRequest r : requests) {
          concurrent.add(pool.submit(() -> policy.generate(r, () -> false)));
        }
        for (int i = 0; i < requests.size(); i++) {
          GenerateResponse expected = sequential.get(i);
          GenerateResponse actual = concurrent.get(i).get();
          for (int c = 0; c < expected.getCompletionsCount(); c++) {
            assertEquals(
                expected.getCompletions(c).getTokenIdsList(),
                actual.getCompletions(c).getTokenIdsList());
            assertEquals(
                expected.getCompletions(c).getSumLogprob(),
                actual.getCompletions(c).getSumLogprob(),
                1e-5);
          }
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }
}

package dev.ncalign.policy.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ncalign.lm.model.ModelFingerprint;
import dev.ncalign.lm.model.TestModels;
import dev.ncalign.proto.v1.Completion;
import dev.ncalign.proto.v1.GenerateRequest;
import dev.ncalign.proto.v1.GenerateResponse;
import dev.ncalign.proto.v1.GetInfoRequest;
import dev.ncalign.proto.v1.LogprobsItem;
import dev.ncalign.proto.v1.LogprobsRequest;
import dev.ncalign.proto.v1.LogprobsResponse;
import dev.ncalign.proto.v1.PolicyInfo;
import dev.ncalign.proto.v1.PolicyServiceGrpc;
import dev.ncalign.proto.v1.SamplingParams;
import dev.ncalign.proto.v1.SequenceLogprobs;
import io.grpc.ManagedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The server on a free loopback port: one client generates continuously while another pushes new
 * weights five times. No request fails, versions only increase, and completions agree with
 * ComputeLogprobs on the version that produced them.
 */
class HotSwapIntegrationTest {

  @Test
  void generateWhilePushingWeights() throws Exception {
    List<byte[]> versions = new ArrayList<>();
    for (int v = 2; v <= 6; v++) {
      versions.add(ServingFixtures.weights(100 + v));
    }
    try (PolicyServer server =
        PolicyServer.start(PolicyServerOptions.defaults(TestModels.tinyDir()))) {
      ManagedChannel channel = ServingFixtures.channel(server.port());
      PolicyServiceGrpc.PolicyServiceBlockingStub stub = PolicyServiceGrpc.newBlockingStub(channel);
      AtomicBoolean pushing = new AtomicBoolean(true);
      AtomicInteger failures = new AtomicInteger();
      AtomicInteger requests = new AtomicInteger();
      AtomicInteger compared = new AtomicInteger();
      List<Long> seenVersions = new ArrayList<>();
      List<String> errors = new ArrayList<>();
      Thread generator =
          new Thread(
              () -> {
                GenerateRequest request =
                    GenerateRequest.newBuilder()
                        .addPrompts("the cat sat")
                        .addPrompts("")
                        .setNumSamples(2)
                        .setSampling(
                            SamplingParams.newBuilder()
                                .setMaxNewTokens(4)
                                .setTemperature(1f)
                                .setSeed(3))
                        .build();
                // Keep going until the pushes are done, and a few more rounds on the final version.
                int extra = 5;
                while (pushing.get() || extra-- > 0) {
                  try {
                    GenerateResponse response =
                        stub.withDeadlineAfter(30, TimeUnit.SECONDS).generate(request);
                    requests.incrementAndGet();
                    seenVersions.add(response.getPolicyVersion());
                    compare(stub, request, response, compared);
                  } catch (RuntimeException | AssertionError e) {
                    // Recorded here and asserted on the test thread: an error thrown in this thread
                    // would be lost.
                    failures.incrementAndGet();
                    errors.add(e.toString());
                  }
                }
              });
      generator.start();
      for (int i = 0; i < versions.size(); i++) {
        Thread.sleep(150);
        assertEquals(i + 2, ServingFixtures.push(channel, i + 2, versions.get(i)).getLiveVersion());
      }
      pushing.set(false);
      generator.join(120_000);

      assertEquals(0, failures.get(), errors.toString());
      assertTrue(requests.get() >= 5, "requests: " + requests.get());
      for (int i = 1; i < seenVersions.size(); i++) {
        assertTrue(
            seenVersions.get(i) >= seenVersions.get(i - 1), "versions went back: " + seenVersions);
      }
      assertEquals(6, seenVersions.get(seenVersions.size() - 1));
      PolicyInfo info = stub.getInfo(GetInfoRequest.getDefaultInstance());
      assertEquals(6, info.getLiveVersion());
      // The fingerprint names the base model the server loaded, however many pushes followed.
      ModelFingerprint base = ModelFingerprint.of(TestModels.tinyDir());
      assertEquals(base.architecture(), info.getFingerprint().getArchitecture());
      assertEquals(base.shapesSha256(), info.getFingerprint().getShapesSha256());
      assertEquals(base.tokenizerSha256(), info.getFingerprint().getTokenizerSha256());
      assertEquals(base.weightsSha256(), info.getFingerprint().getWeightsSha256());
      assertTrue(compared.get() > 0, "no completion could be compared with ComputeLogprobs");
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /**
   * Scores each completion's text with ComputeLogprobs; when that ran on the same version and the
   * text re-encodes to the same ids (special tokens such as a final eos are not part of the text),
   * the per-token log-probs must agree.
   */
  private static void compare(
      PolicyServiceGrpc.PolicyServiceBlockingStub stub,
      GenerateRequest request,
      GenerateResponse response,
      AtomicInteger compared) {
    LogprobsRequest.Builder scoring = LogprobsRequest.newBuilder();
    for (Completion c : response.getCompletionsList()) {
      scoring.addItems(
          LogprobsItem.newBuilder()
              .setPrompt(request.getPrompts(c.getPromptIndex()))
              .setResponse(c.getText()));
    }
    LogprobsResponse scored = stub.computeLogprobs(scoring.build());
    if (scored.getPolicyVersion() != response.getPolicyVersion()) {
      return;
    }
    for (int i = 0; i < response.getCompletionsCount(); i++) {
      Completion c = response.getCompletions(i);
      SequenceLogprobs s = scored.getResults(i);
      if (c.getFinishReason() == dev.ncalign.proto.v1.FinishReason.LENGTH
          && s.getTokenIdsList().equals(c.getTokenIdsList())) {
        for (int j = 0; j < s.getTokenLogprobsCount(); j++) {
          assertEquals(s.getTokenLogprobs(j), c.getTokenLogprobs(j), 1e-4);
        }
        assertEquals(s.getSumLogprob(), c.getSumLogprob(), 1e-3);
        compared.incrementAndGet();
      }
    }
  }
}

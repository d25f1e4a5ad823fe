package dev.ncalign.policy.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ncalign.lm.model.TestModels;
import dev.ncalign.proto.v1.GenerateRequest;
import dev.ncalign.proto.v1.GenerateResponse;
import dev.ncalign.proto.v1.GetInfoRequest;
import dev.ncalign.proto.v1.LogprobsItem;
import dev.ncalign.proto.v1.LogprobsRequest;
import dev.ncalign.proto.v1.PolicyInfo;
import dev.ncalign.proto.v1.PolicyServiceGrpc;
import dev.ncalign.proto.v1.SamplingParams;
import dev.ncalign.serving.RawRequests;
import dev.ncalign.serving.TextLimit;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every malformed request is INVALID_ARGUMENT with a description that starts with the offending
 * field.
 */
class BadRequestTest {

  private static final int MAX_CHARS = 2000;
  private static final PolicyLimits LIMITS =
      new PolicyLimits(4, 3, 8, 1 << 20, new TextLimit(MAX_CHARS));
  private static PolicyServer server;
  private static ManagedChannel channel;
  private static PolicyServiceGrpc.PolicyServiceBlockingStub stub;

  @BeforeAll
  static void start() {
    server =
        PolicyServer.start(PolicyServerOptions.defaults(TestModels.tinyDir()).withLimits(LIMITS));
    channel = ServingFixtures.channel(server.port());
    stub = PolicyServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.close();
  }

  @Test
  void getInfoReportsModelAndLimits() {
    PolicyInfo info = stub.getInfo(GetInfoRequest.getDefaultInstance());
    assertEquals("LlamaForCausalLM", info.getArchitecture());
    assertEquals(64, info.getMaxContext());
    assertEquals(4, info.getMaxNumSamples());
    assertEquals(3, info.getMaxPrompts());
    assertEquals(1 << 20, info.getMaxWeightBytes());
    assertEquals(MAX_CHARS, info.getMaxChars());
    assertEquals(1, info.getLiveVersion());
    assertEquals("cpu()", info.getDevice());
    assertTrue(info.getParameterCount() > 0);
  }

  @Test
  void validRequestWithDefaults() {
    GenerateResponse response =
        stub.generate(GenerateRequest.newBuilder().addPrompts("").setNumSamples(2).build());
    assertEquals(2, response.getCompletionsCount());
    assertTrue(response.getCompletions(0).getTokenIdsCount() <= LIMITS.defaultMaxNewTokens());
  }

  @Test
  void generateFieldsAreChecked() {
    String tooLong = "cat ".repeat(70);
    String sixtyTokens = "cat ".repeat(59);
    assertInvalid("prompts", generate(r -> r.clearPrompts()));
    assertInvalid("prompts", generate(r -> r.addPrompts("a").addPrompts("b").addPrompts("c")));
    assertInvalid("num_samples", generate(r -> r.setNumSamples(0)));
    assertInvalid("num_samples", generate(r -> r.setNumSamples(5)));
    assertInvalid(
        "sampling.max_new_tokens", generate(r -> r.setSampling(params().setMaxNewTokens(65))));
    assertInvalid(
        "sampling.max_new_tokens",
        generate(r -> r.setPrompts(0, sixtyTokens).setSampling(params().setMaxNewTokens(10))));
    assertInvalid(
        "sampling.temperature", generate(r -> r.setSampling(params().setTemperature(-0.5f))));
    assertInvalid(
        "sampling.temperature", generate(r -> r.setSampling(params().setTemperature(Float.NaN))));
    assertInvalid("sampling.top_p", generate(r -> r.setSampling(params().setTopP(1.5f))));
    assertInvalid("sampling.top_p", generate(r -> r.setSampling(params().setTopP(-0.1f))));
    assertInvalid("prompts[1]", generate(r -> r.addPrompts(tooLong)));
    assertInvalid(
        "sampling.stop",
        generate(r -> r.setSampling(params().addAllStop(java.util.Collections.nCopies(9, "x")))));
    assertInvalid("sampling.stop[0]", generate(r -> r.setSampling(params().addStop(""))));
  }

  @Test
  void anOversizedTextIsRefusedBeforeTokenizing() {
    // 10 MB: tokenizing it took a minute of CPU and 2 GB before the character limit existed.
    String huge = "cat ".repeat(2_500_000);
    long start = System.nanoTime();
    assertInvalid("prompts[0]", generate(r -> r.setPrompts(0, huge)));
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertTrue(millis < 5_000, "refused after " + millis + " ms");
    StatusRuntimeException e =
        assertThrows(StatusRuntimeException.class, generate(r -> r.setPrompts(0, huge))::run);
    assertEquals(
        "prompts[0]: 10000000 characters exceed the limit of 2000", e.getStatus().getDescription());
    assertInvalid(
        "items[1].response",
        () ->
            stub.computeLogprobs(
                LogprobsRequest.newBuilder()
                    .addItems(LogprobsItem.newBuilder().setPrompt("a").setResponse("b"))
                    .addItems(
                        LogprobsItem.newBuilder().setPrompt("a").setResponse("b".repeat(2001)))
                    .build()));
    assertInvalid(
        "items[0].prompt",
        () ->
            stub.computeLogprobs(
                LogprobsRequest.newBuilder()
                    .addItems(LogprobsItem.newBuilder().setPrompt("a".repeat(2001)))
                    .build()));
    // At the limit the characters pass and the tokens decide.
    StatusRuntimeException atLimit =
        assertThrows(
            StatusRuntimeException.class,
            generate(r -> r.setPrompts(0, "cat ".repeat(MAX_CHARS / 4)))::run);
    assertTrue(
        atLimit.getStatus().getDescription().contains("tokens"),
        atLimit.getStatus().getDescription());
  }

  @Test
  void invalidUtf8IsInvalidArgument() {
    // GenerateRequest{prompts: [0xC3 0x28], num_samples: 1}: a UTF-8 lead byte without its
    // continuation, as a client with no UTF-8 check could send it.
    byte[] message = {0x0A, 0x02, (byte) 0xC3, 0x28, 0x10, 0x01};
    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class,
            () -> RawRequests.call(channel, PolicyServiceGrpc.getGenerateMethod(), message));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.toString());
    assertTrue(e.getStatus().getDescription().contains("UTF-8"), e.getStatus().getDescription());
    // The server still serves.
    assertEquals(1, stub.getInfo(GetInfoRequest.getDefaultInstance()).getLiveVersion());
  }

  @Test
  void logprobsFieldsAreChecked() {
    assertInvalid("items", () -> stub.computeLogprobs(LogprobsRequest.getDefaultInstance()));
    LogprobsRequest.Builder tooMany = LogprobsRequest.newBuilder();
    for (int i = 0; i <= LIMITS.maxLogprobItems(); i++) {
      tooMany.addItems(LogprobsItem.newBuilder().setResponse("a"));
    }
    assertInvalid("items", () -> stub.computeLogprobs(tooMany.build()));
    assertInvalid(
        "items[1]",
        () ->
            stub.computeLogprobs(
                LogprobsRequest.newBuilder()
                    .addItems(LogprobsItem.newBuilder().setPrompt("a").setResponse("b"))
                    .addItems(
                        LogprobsItem.newBuilder().setPrompt("a").setResponse("cat ".repeat(64)))
                    .build()));
  }

  @Test
  void cancelledCallStopsAndReportsCancelled() throws Exception {
    Policy policy = new Policy(server.registry(), LIMITS, "test");
    PolicyGrpcService service = new PolicyGrpcService(policy);
    CompletableFuture<Throwable> error = new CompletableFuture<>();
    Context.CancellableContext context = Context.current().withCancellation();
    context.cancel(null);
    context.run(
        () ->
            service.generate(
                GenerateRequest.newBuilder()
                    .addPrompts("the")
                    .setNumSamples(1)
                    .setSampling(params().setMaxNewTokens(60))
                    .build(),
                new StreamObserver<>() {
                  @Override
                  public void onNext(GenerateResponse value) {
                    error.completeExceptionally(
                        new AssertionError("a cancelled call produced a response"));
                  }

                  @Override
                  public void onError(Throwable t) {
                    error.complete(t);
                  }

                  @Override
                  public void onCompleted() {}
                }));
    assertEquals(
        Status.Code.CANCELLED, Status.fromThrowable(error.get(10, TimeUnit.SECONDS)).getCode());
  }

  private static SamplingParams.Builder params() {
    return SamplingParams.newBuilder().setMaxNewTokens(4).setTemperature(1f);
  }

  private static Runnable generate(UnaryOperator<GenerateRequest.Builder> change) {
    GenerateRequest.Builder valid =
        GenerateRequest.newBuilder().addPrompts("the cat").setNumSamples(2).setSampling(params());
    GenerateRequest request = change.apply(valid).build();
    return () -> stub.generate(request);
  }

  private static void assertInvalid(String field, Runnable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.toString());
    assertTrue(
        e.getStatus().getDescription().startsWith(field + ":"), e.getStatus().getDescription());
  }
}

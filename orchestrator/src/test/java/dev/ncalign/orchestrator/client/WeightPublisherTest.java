package dev.ncalign.orchestrator.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.lm.model.SafetensorsWriter;
import dev.ncalign.lm.model.TestModels;
import dev.ncalign.proto.v1.WeightHeader;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The weight publisher: version numbers, and weights streamed rather than held. */
class WeightPublisherTest {
  private static final ClientOptions FAST = PolicyClientTest.FAST;

  private final LoopbackServers servers = new LoopbackServers();

  @AfterEach
  void stop() {
    servers.close();
  }

  /**
   * Eight 10 KiB "tensors" through 1 KiB slices: when each tensor starts, the replica has already
   * received all but at most two slices of what came before (one the client is filling, one in
   * flight), so the client never holds the file, nor even one whole tensor.
   */
  @Test
  void theUploadStaysWithinTwoSlicesOfTheReplica() throws Exception {
    FakePolicy fake = new FakePolicy("a", 0);
    String name = InProcessServerBuilder.generateName();
    Server server = InProcessServerBuilder.forName(name).addService(fake).build().start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
    int slice = 1024;
    int tensor = 10 * 1024;
    List<Long> lags = new ArrayList<>();
    WeightSource source =
        out -> {
          for (int t = 0; t < 8; t++) {
            lags.add((long) t * tensor - fake.receivedBytes.get());
            out.write(tensorBytes(t, tensor));
          }
        };
    byte[] whole = written(source);
    try {
      WeightDigest digest = WeightDigest.of(source);
      lags.clear();
      WeightUpload.push(
          channel,
          WeightHeader.newBuilder()
              .setVersion(2)
              .setFormat("safetensors")
              .setTotalBytes(digest.totalBytes())
              .setSha256Hex(digest.sha256Hex())
              .build(),
          source,
          slice);
    } finally {
      channel.shutdownNow();
      server.shutdownNow();
    }
    assertArrayEquals(whole, fake.weights);
    assertEquals(8 * tensor / slice, fake.chunkSizes.size());
    assertTrue(fake.chunkSizes.stream().allMatch(n -> n == slice), fake.chunkSizes.toString());
    assertTrue(lags.stream().allMatch(lag -> lag <= 2L * slice), "bytes not yet received " + lags);
  }

  @Test
  void thePublisherOwnsTheVersionNumbers() throws Exception {
    FakePolicy a = new FakePolicy("a", 0);
    FakePolicy b = new FakePolicy("b", 0);
    PolicyClient client = new PolicyClient(List.of(servers.start(a), servers.start(b)), FAST);
    AtomicInteger writes = new AtomicInteger();
    byte[] bytes = tensorBytes(3, 5000);
    WeightSource weights =
        out -> {
          writes.incrementAndGet();
          out.write(bytes);
        };

    WeightPublisher fresh = WeightPublisher.synchronize(client, weights, OptionalLong.empty());
    assertEquals(1, fresh.liveVersion(), "replicas on the base model: nothing to push");
    assertEquals(0, writes.get());

    Published published = fresh.publish(1);
    assertEquals(new Published(2, 5000, published.seconds(), 0.25), published);
    assertEquals(3, writes.get(), "written once for the digest and once per replica, never kept");
    assertEquals(List.of(2L, 2L), List.of(a.version, b.version));
    assertEquals(6, fresh.publish(5).version(), "above the version the round sampled from");
    assertEquals(7, fresh.publish(6).version());
    assertEquals(7, fresh.liveVersion());

    // A resumed run whose replicas restarted on the base model gets its checkpoint's version back.
    a.version = 1;
    b.version = 1;
    assertEquals(9, WeightPublisher.synchronize(client, weights, OptionalLong.of(9)).liveVersion());
    assertEquals(List.of(9L, 9L), List.of(a.version, b.version));
    // Replicas that served another run are pushed above what they serve, even on a fresh run.
    assertEquals(
        10, WeightPublisher.synchronize(client, weights, OptionalLong.empty()).liveVersion());
    assertArrayEquals(bytes, b.weights);
    client.close();
  }

  /** A real model's weights arrive intact, and the model writes them one tensor at a time. */
  @Test
  void aModelIsPublishedTensorByTensor() throws Exception {
    FakePolicy fake = new FakePolicy("a", 0);
    PolicyClient client = new PolicyClient(List.of(servers.start(fake)), FAST);
    try (CausalLm model = TestModels.loadTiny()) {
      long[] largestWrite = {0};
      WeightSource weights =
          out ->
              model.writeSafetensors(
                  new FilterOutputStream(out) {
                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                      largestWrite[0] = Math.max(largestWrite[0], len);
                      out.write(b, off, len);
                    }
                  });

      Published published = WeightPublisher.at(client, weights, 1).publish(1);

      byte[] expected = written(model::writeSafetensors);
      assertArrayEquals(expected, fake.weights);
      assertEquals(expected.length, published.bytes());
      // The writer hands over bounded pieces, never the file (or a whole large tensor) at once.
      assertTrue(
          largestWrite[0] <= SafetensorsWriter.CHUNK_BYTES,
          "largest write " + largestWrite[0] + " > " + SafetensorsWriter.CHUNK_BYTES);
    } finally {
      client.close();
    }
  }

  private static byte[] tensorBytes(int seed, int size) {
    byte[] bytes = new byte[size];
    for (int i = 0; i < size; i++) {
      bytes[i] = (byte) (seed * 31 + i * 7);
    }
    return bytes;
  }

  private static byte[] written(WeightSource source) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    source.writeTo(out);
    return out.toByteArray();
  }
}

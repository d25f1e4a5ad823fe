package dev.ncalign.policy.serving;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.ncalign.policy.scheduling.SwapPriorityGate;
import dev.ncalign.proto.v1.WeightChunk;
import dev.ncalign.proto.v1.WeightHeader;
import dev.ncalign.serving.InvalidRequestException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** An upload holds swap priority from its header until closed, through the load. */
class WeightUploadPriorityTest {

  private static final byte[] DATA = "weights".getBytes(StandardCharsets.UTF_8);

  @Test
  void holdsFromTheHeaderThroughTheLoadUntilClosed() throws Exception {
    SwapPriorityGate gate = new SwapPriorityGate(TimeUnit.MILLISECONDS.toNanos(200));
    try (WeightUpload upload = new WeightUpload(1 << 20, gate)) {
      assertTrue(gate.isOpen(), "an upload without a header holds nothing");
      upload.accept(header(DATA.length, ServingFixtures.sha256(DATA)));
      assertFalse(gate.isOpen());
      upload.accept(WeightChunk.newBuilder().setData(ByteString.copyFrom(DATA)).build());
      try (InputStream loading = upload.verifiedData()) {
        // Longer than the stall time: a loading push keeps the gate.
        Thread.sleep(500);
        assertFalse(gate.isOpen(), "the load lost swap priority");
      }
    }
    assertTrue(gate.isOpen());
  }

  @Test
  void aRefusedUploadReleasesOnClose() {
    SwapPriorityGate gate = SwapPriorityGate.withDefaultStall();
    WeightUpload upload = new WeightUpload(1 << 20, gate);
    upload.accept(header(DATA.length, "0".repeat(64)));
    upload.accept(WeightChunk.newBuilder().setData(ByteString.copyFrom(DATA)).build());
    assertThrows(InvalidRequestException.class, upload::verifiedData);
    assertFalse(gate.isOpen());
    upload.close();
    assertTrue(gate.isOpen());
  }

  private static WeightChunk header(long bytes, String sha) {
    return WeightChunk.newBuilder()
        .setHeader(
            WeightHeader.newBuilder()
                .setVersion(2)
                .setFormat("safetensors")
                .setTotalBytes(bytes)
                .setSha256Hex(sha))
        .build();
  }
}

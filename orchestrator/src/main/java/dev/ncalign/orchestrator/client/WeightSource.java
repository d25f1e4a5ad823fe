package dev.ncalign.orchestrator.client;

import dev.ncalign.proto.v1.WeightKind;
import java.io.IOException;
import java.io.OutputStream;

/**
 * A safetensors weight file that is written on demand, tensor by tensor, rather than held in
 * memory: {@link WeightPublisher} writes it once to digest it and once per replica to send it.
 * Every call must write the same bytes (the replica checks them against the digest of the first).
 */
@FunctionalInterface
public interface WeightSource {
  /** Writes the whole file to {@code out}; the caller closes nothing. */
  void writeTo(OutputStream out) throws IOException;

  /** What the file holds: every weight (the default) or a LoRA adapter. */
  default WeightKind kind() {
    return WeightKind.FULL;
  }

  /** PEFT adapter_config.json of a {@link WeightKind#LORA_ADAPTER} file; empty otherwise. */
  default String adapterConfigJson() {
    return "";
  }

  /** A file already in memory (tests, small files). */
  static WeightSource of(byte[] bytes) {
    return out -> out.write(bytes);
  }
}

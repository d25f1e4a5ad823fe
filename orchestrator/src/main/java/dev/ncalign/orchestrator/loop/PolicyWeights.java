package dev.ncalign.orchestrator.loop;

import dev.ncalign.lm.lora.LoraAdapter;
import dev.ncalign.lm.lora.PeftAdapterDirectory;
import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.orchestrator.client.PolicyClient;
import dev.ncalign.proto.v1.PushWeightsResponse;
import dev.ncalign.proto.v1.WeightKind;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;

/**
 * What the learner publishes and checkpoints of its policy: every weight for full fine-tuning, or
 * only the LoRA adapter (PEFT naming and adapter_config.json) when the policy is an adapter view,
 * which the replicas apply onto the base model they already hold.
 *
 * @param kind FULL or LORA_ADAPTER
 * @param adapterConfigJson PEFT adapter_config.json for an adapter, else empty
 * @param safetensors the tensors PushWeights streams
 */
public record PolicyWeights(WeightKind kind, String adapterConfigJson, byte[] safetensors) {

  /** The weights of {@code policy} as they go on the wire. */
  public static PolicyWeights of(CausalLm policy) {
    if (policy.adapter() instanceof LoraAdapter adapter) {
      return new PolicyWeights(
          WeightKind.LORA_ADAPTER, adapter.config().toPeftJson(), adapter.toSafetensorsBytes());
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    policy.writeSafetensors(out);
    return new PolicyWeights(WeightKind.FULL, "", out.toByteArray());
  }

  /** Pushes these weights as {@code version} to every replica. */
  public PushWeightsResponse pushTo(PolicyClient client, long version) {
    return client.pushWeights(version, safetensors, kind, adapterConfigJson);
  }

  /**
   * Saves {@code policy} into a checkpoint directory: a PEFT adapter directory for an adapter view
   * (what {@code peft} and {@code ncalign merge} load), an HF model directory otherwise.
   */
  public static void save(CausalLm policy, Path dir) {
    if (policy.adapter() instanceof LoraAdapter adapter) {
      PeftAdapterDirectory.save(adapter, dir);
    } else {
      policy.save(dir);
    }
  }
}

package dev.ncalign.orchestrator.loop;

import dev.ncalign.lm.lora.LoraAdapter;
import dev.ncalign.lm.lora.PeftAdapterDirectory;
import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.lm.model.WeightDType;
import dev.ncalign.orchestrator.client.WeightSource;
import dev.ncalign.proto.v1.WeightKind;
import java.io.OutputStream;
import java.nio.file.Path;

/**
 * What the learner publishes and checkpoints of its policy: every weight for full fine-tuning, or
 * only the LoRA adapter (PEFT naming and adapter_config.json) when the policy is an adapter view,
 * which the replicas apply onto the base model they already hold.
 */
public final class PolicyWeights {

  private PolicyWeights() {}

  /**
   * The policy's weights as PushWeights streams them, written from its current values: full weights
   * in {@code fullDtype}, an adapter in F32 (it is small).
   */
  public static WeightSource of(CausalLm policy, WeightDType fullDtype) {
    if (policy.adapter() instanceof LoraAdapter adapter) {
      return new WeightSource() {
        @Override
        public void writeTo(OutputStream out) {
          adapter.writeSafetensors(out);
        }

        @Override
        public WeightKind kind() {
          return WeightKind.LORA_ADAPTER;
        }

        @Override
        public String adapterConfigJson() {
          return adapter.config().toPeftJson();
        }
      };
    }
    return out -> policy.writeSafetensors(out, fullDtype);
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

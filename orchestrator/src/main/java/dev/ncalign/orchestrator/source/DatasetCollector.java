package dev.ncalign.orchestrator.source;

import dev.ncalign.lm.model.ModelConfig;
import dev.ncalign.lm.model.TextCodec;
import dev.ncalign.orchestrator.config.RunConfig;
import dev.ncalign.orchestrator.launch.Services;
import dev.ncalign.orchestrator.train.ScoredPrompt;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Builds an offline dataset from the live policy: K scored samples for each training prompt of
 * rounds 1, 2, … (the prompts and sampling settings of {@code config}), with the sampler's token
 * ids, log-probs, finish reasons and versions, as {@link DatasetFile} writes them.
 */
public final class DatasetCollector {
  private DatasetCollector() {}

  /**
   * The first {@code count} prompts, with their scored samples.
   *
   * @param progress receives the number of prompts collected so far
   */
  public static List<ScoredPrompt> collect(
      RunConfig config, Services services, int count, IntConsumer progress) {
    Path model = config.policy().model();
    try (TextCodec codec =
        TextCodec.load(
            model.resolve("tokenizer.json"), ModelConfig.read(model.resolve("config.json")))) {
      OnlineSource source =
          new OnlineSource(
              new OnlineSampler(services.policy(), services.reward(), codec, config.sampling()),
              PromptSet.load(config.prompts().file()),
              config.sampling().promptsPerRound(),
              config.run().seed());
      List<ScoredPrompt> rows = new ArrayList<>(count);
      for (int round = 1; rows.size() < count; round++) {
        List<ScoredPrompt> batch = source.next(round).batch().prompts();
        rows.addAll(batch.subList(0, Math.min(batch.size(), count - rows.size())));
        progress.accept(rows.size());
      }
      return rows;
    }
  }
}

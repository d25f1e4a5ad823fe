package dev.ncalign.cli;

import ai.djl.engine.Engine;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ncalign.lm.model.CausalLm;
import dev.ncalign.lm.model.TextCodec;
import dev.ncalign.orchestrator.train.AdamW;
import dev.ncalign.orchestrator.train.LearningRateSchedule;
import dev.ncalign.orchestrator.train.ScoredPrompt;
import dev.ncalign.orchestrator.train.ScoredResponse;
import dev.ncalign.orchestrator.train.SupervisedFineTuning;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ncalign sft}: supervised fine-tuning on {@code {"prompt": ..., "response": ...}} JSONL.
 */
@Command(
    name = "sft",
    mixinStandardHelpOptions = true,
    description =
        "Supervised fine-tuning (cross-entropy on response tokens) of a Hugging Face model directory.")
final class SftCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, description = "model directory to start from")
  Path model;

  @Option(
      names = "--data",
      required = true,
      description = "JSONL of {\"prompt\": ..., \"response\": ...}")
  Path data;

  @Option(names = "--out", required = true, description = "model directory to write")
  Path out;

  @Option(names = "--epochs", defaultValue = "2")
  int epochs;

  @Option(names = "--lr", defaultValue = "1e-3")
  float lr;

  @Option(names = "--token-budget", defaultValue = "1024", description = "tokens per minibatch")
  int tokenBudget;

  @Option(names = "--seed", defaultValue = "1")
  long seed;

  @Override
  public Integer call() throws Exception {
    try (CausalLm lm = CausalLm.load(model, Engine.getInstance().defaultDevice())) {
      List<ScoredPrompt> examples = read(data, lm.codec());
      int steps =
          epochs
              * Math.max(
                  1, examples.stream().mapToInt(ScoredPrompt::tokenCost).sum() / tokenBudget);
      try (AdamW optimizer =
          new AdamW(
              lm.parameters(), new LearningRateSchedule(lr, steps / 20, steps, 0.1f), 0f, 1f)) {
        int[] step = {0};
        double loss =
            new SupervisedFineTuning(lm, optimizer, tokenBudget, seed)
                .train(
                    examples,
                    epochs,
                    l -> {
                      if (++step[0] % 20 == 0) {
                        System.out.printf("step %d/%d loss %.4f nats/token%n", step[0], steps, l);
                      }
                    });
        System.out.printf("last-epoch loss %.4f nats/token%n", loss);
      }
      lm.save(out);
    }
    System.out.println("wrote " + out);
    return 0;
  }

  private static List<ScoredPrompt> read(Path file, TextCodec codec) throws Exception {
    ObjectMapper json = new ObjectMapper();
    List<ScoredPrompt> examples = new ArrayList<>();
    int line = 0;
    for (String text : Files.readAllLines(file)) {
      line++;
      if (text.isBlank()) {
        continue;
      }
      JsonNode row = json.readTree(text);
      if (!row.path("prompt").isTextual() || !row.path("response").isTextual()) {
        throw new IllegalArgumentException(
            file + ":" + line + ": expected {\"prompt\": text, \"response\": text}");
      }
      String prompt = row.get("prompt").asText();
      examples.add(
          new ScoredPrompt(
              prompt,
              codec.encodePrompt(prompt),
              List.of(ScoredResponse.ending(codec, row.get("response").asText(), 0f))));
    }
    return examples;
  }
}

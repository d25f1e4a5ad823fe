package dev.ncalign.orchestrator.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ncalign.orchestrator.client.ClientOptions;
import dev.ncalign.orchestrator.loss.LossType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigLoaderTest {

  /** Surefire runs in the module directory; the bundled configs are one level up. */
  private static final Path CONFIGS = Path.of("..", "configs");

  @ParameterizedTest
  @ValueSource(strings = {"demo.yaml", "online.yaml", "offline.yaml", "compare.yaml"})
  void everyBundledConfigLoads(String name) {
    RunConfig config = ConfigLoader.load(CONFIGS.resolve(name), List.of());
    assertTrue(config.run().rounds() >= 1);
    assertTrue(config.sampling().k() >= 2);
  }

  @Test
  void bundledConfigsSayWhatTheyMean() {
    RunConfig demo = ConfigLoader.load(CONFIGS.resolve("demo.yaml"), List.of());
    assertEquals(Path.of("runs/demo"), demo.run().dir());
    assertEquals(Mode.ONLINE, demo.mode());
    assertEquals(LossType.NCA, demo.loss().type());
    assertEquals(2.0e-4, demo.optimizer().lr());
    assertEquals(LrSchedule.COSINE, demo.optimizer().schedule());
    assertTrue(demo.policy().local());
    assertNull(demo.grid());

    RunConfig online = ConfigLoader.load(CONFIGS.resolve("online.yaml"), List.of());
    assertEquals(List.of("127.0.0.1:50051"), online.policy().targets());
    assertFalse(online.reward().local());

    assertEquals(
        Mode.OFFLINE, ConfigLoader.load(CONFIGS.resolve("offline.yaml"), List.of()).mode());

    RunConfig.Grid grid = ConfigLoader.load(CONFIGS.resolve("compare.yaml"), List.of()).grid();
    assertEquals(
        List.of(LossType.NCA, LossType.INFONCA, LossType.DPO, LossType.NCA_PAIR), grid.losses());
    assertEquals(List.of(Mode.ONLINE, Mode.OFFLINE), grid.modes());
    assertEquals(List.of(1L, 2L, 3L), grid.seeds());
  }

  @Test
  void missingKeysTakeTheDefaults() {
    RunConfig config = ConfigLoader.parse("loss: {beta: 0.5}\n", List.of());
    assertEquals(0.5, config.loss().beta());
    assertEquals(RunConfig.defaults().loss().alpha(), config.loss().alpha());
    assertEquals(RunConfig.defaults().optimizer(), config.optimizer());
    assertEquals(RunConfig.defaults().run(), ConfigLoader.parse("", List.of()).run());
  }

  @Test
  void enumsAcceptAnyCase() {
    RunConfig config =
        ConfigLoader.parse(
            "mode: OFFLINE\nloss: {type: infonca}\noffline: {dataset: d.jsonl}\n", List.of());
    assertEquals(Mode.OFFLINE, config.mode());
    assertEquals(LossType.INFONCA, config.loss().type());
  }

  @Test
  void unknownKeyNamesItsPath() {
    assertError("config error: unknown key optimizer.lrr", "optimizer: {lrr: 0.1}\n");
    assertError("config error: unknown key lossy", "lossy: {beta: 0.1}\n");
  }

  @Test
  void wrongTypeNamesTheField() {
    assertError("config error: loss.beta: expected a number", "loss: {beta: abc}\n");
    assertError("config error: sampling.k: expected an integer", "sampling: {k: 2.5}\n");
    assertError(
        "config error: loss.type: expected one of NCA, INFONCA, DPO, NCA_PAIR",
        "loss: {type: PPO}\n");
    assertError("config error: loss: expected a mapping", "loss: 3\n");
    assertError("config error: policy.targets: expected a list", "policy: {targets: {a: 1}}\n");
  }

  @Test
  void outOfRangeNamesTheFieldAndValue() {
    assertEquals("config error: loss.beta must be > 0 (got -1)", errorOf("loss: {beta: -1}\n"));
    assertEquals("config error: sampling.k must be >= 2 (got 1)", errorOf("sampling: {k: 1}\n"));
    assertEquals(
        "config error: sampling.top_p must be in (0, 1] (got 1.5)",
        errorOf("sampling: {top_p: 1.5}\n"));
    assertEquals(
        "config error: policy.targets[1] must be host:port (got nohost)",
        errorOf("policy: {targets: ['127.0.0.1:5000', nohost]}\n"));
    assertEquals(
        "config error: offline.dataset must be set when mode is offline",
        errorOf("mode: offline\n"));
  }

  @Test
  void promptsChatIsABooleanForOnlineRuns() {
    assertFalse(ConfigLoader.parse("", List.of()).prompts().chat());
    assertTrue(ConfigLoader.parse("prompts: {chat: true}\n", List.of()).prompts().chat());
    assertError("config error: prompts.chat: expected", "prompts: {chat: maybe}\n");
    assertEquals(
        "config error: prompts.chat: true needs mode online, without offline grid cells (offline"
            + " datasets hold prompt text)",
        errorOf("mode: offline\noffline: {dataset: d.jsonl}\nprompts: {chat: true}\n"));
    assertEquals(
        errorOf("mode: offline\noffline: {dataset: d.jsonl}\nprompts: {chat: true}\n"),
        errorOf("grid: {modes: [online, offline]}\nprompts: {chat: true}\n"));
  }

  @Test
  void loraSettingsAreCheckedNamingTheField() {
    RunConfig lora = ConfigLoader.parse("lora: {rank: 8, targets: [q_proj, v_proj]}\n", List.of());
    assertTrue(lora.lora().enabled());
    assertEquals(16.0, lora.lora().alpha());
    assertEquals(List.of("q_proj", "v_proj"), lora.lora().targets());
    assertFalse(RunConfig.defaults().lora().enabled(), "rank 0 = full fine-tuning by default");
    assertEquals("config error: lora.rank must be >= 0 (got -1)", errorOf("lora: {rank: -1}\n"));
    assertEquals("config error: lora.alpha must be > 0 (got 0)", errorOf("lora: {alpha: 0}\n"));
    assertEquals(
        "config error: lora.dropout must be in [0, 1) (got 1)", errorOf("lora: {dropout: 1}\n"));
    assertEquals(
        "config error: lora.targets must list at least one value",
        errorOf("lora: {targets: []}\n"));
    assertTrue(
        errorOf("lora: {targets: [q_proj, lm_head]}\n")
            .startsWith("config error: lora.targets[1] must be one of [q_proj"),
        errorOf("lora: {targets: [q_proj, lm_head]}\n"));
    assertEquals(
        "config error: lora.targets[1] must be listed once (got q_proj)",
        errorOf("lora: {targets: [q_proj, q_proj]}\n"));
  }

  @Test
  void invalidYamlIsOneLine() {
    String message = errorOf("loss: {beta: [\n");
    assertTrue(message.startsWith("config error: the configuration: invalid YAML"), message);
    assertFalse(message.contains("\n"), message);
    assertTrue(errorOf("loss: {beta: 1, beta: 2}\n").contains("invalid YAML"));
  }

  @Test
  void missingConfigFileIsNamed(@TempDir Path dir) {
    Path missing = dir.resolve("nope.yaml");
    ConfigException e =
        assertThrows(ConfigException.class, () -> ConfigLoader.load(missing, List.of()));
    assertEquals("config error: no such file " + missing.toAbsolutePath(), e.getMessage());
  }

  @Test
  void missingModelDirectoryIsNamed(@TempDir Path dir) throws IOException {
    RunConfig config = ConfigLoader.parse("policy: {model: /x/none}\n", List.of());
    ConfigException e =
        assertThrows(ConfigException.class, () -> ConfigValidator.checkFiles(config));
    assertEquals("config error: policy.model: no such directory /x/none", e.getMessage());

    Files.createDirectories(dir.resolve("policy"));
    RunConfig noReward =
        ConfigLoader.parse(
            "policy: {model: " + dir.resolve("policy") + "}\nreward: {model: /y}\n", List.of());
    e = assertThrows(ConfigException.class, () -> ConfigValidator.checkFiles(noReward));
    assertEquals("config error: reward.model: no such directory /y", e.getMessage());
  }

  @Test
  void remoteServersNeedNoLocalModel(@TempDir Path dir) throws Exception {
    Path prompts = Files.writeString(dir.resolve("prompts.jsonl"), "{\"prompt\": \"p\"}\n");
    RunConfig config =
        ConfigLoader.parse(
            "policy: {model: /x, targets: ['h:1']}\nreward: {model: /y, targets: ['h:2']}\nprompts: {file: "
                + prompts
                + "}\n",
            List.of());
    ConfigValidator.checkFiles(config);
  }

  @Test
  void overridesApplyAfterTheFileAndAreCheckedTheSameWay() {
    RunConfig config =
        ConfigLoader.parse(
            "loss: {type: NCA}\n",
            List.of(
                "loss.type=INFONCA",
                "optimizer.lr=1e-3",
                "policy.targets=[a:1, b:2]",
                "grid.losses=[DPO]",
                "grid.seeds=[1, 2]"));
    assertEquals(LossType.INFONCA, config.loss().type());
    assertEquals(1e-3, config.optimizer().lr());
    assertEquals(List.of("a:1", "b:2"), config.policy().targets());
    assertEquals(List.of(1L, 2L), config.grid().seeds());

    assertEquals(
        "config error: unknown key optimizer.lrr",
        errorOf("", "optimizer.lrr=1").replaceAll(" \\(known keys.*", ""));
    assertEquals("config error: loss.beta must be > 0 (got 0)", errorOf("", "loss.beta=0"));
    assertEquals(
        "config error: clients.push_dtype must be one of auto, float32, bfloat16, float16 (got int8)",
        errorOf("", "clients.push_dtype=int8"));
    assertTrue(
        errorOf("", "loss.beta")
            .startsWith("config error: override loss.beta: expected path=value"));
  }

  @Test
  void aGridAxisLeftOutTakesTheSingleRunsValue() {
    RunConfig config =
        ConfigLoader.parse(
            "run: {seed: 7}\nloss: {type: DPO}\ngrid: {losses: [NCA, INFONCA]}\n", List.of());
    assertEquals(
        new RunConfig.Grid(
            List.of(LossType.NCA, LossType.INFONCA), List.of(Mode.ONLINE), List.of(7L)),
        config.grid());
    assertEquals(
        List.of(LossType.DPO),
        ConfigLoader.parse("loss: {type: DPO}\ngrid: {}\n", List.of()).grid().losses());
    assertEquals(
        "config error: grid.seeds must list at least one value", errorOf("grid: {seeds: []}\n"));
  }

  @Test
  void yamlRoundTripsEveryField() {
    RunConfig config =
        ConfigLoader.load(CONFIGS.resolve("compare.yaml"), List.of("clients.token_file=/t"));
    assertEquals(config, ConfigLoader.parse(ConfigLoader.toYaml(config), List.of()));
  }

  @Test
  void clientSettingsBecomeClientOptions(@TempDir Path dir) throws IOException {
    Path token = Files.writeString(dir.resolve("token"), "s3cret\n");
    RunConfig config =
        ConfigLoader.parse(
            "clients: {deadline_seconds: 2.5, retries: 0, token_file: " + token + "}\n", List.of());
    ClientOptions options = config.clients().options();
    assertEquals(Duration.ofMillis(2500), options.deadline());
    assertEquals(0, options.retries());
    assertEquals(Duration.ofSeconds(60), options.replicaTimeout(), "the default");
    assertEquals(
        Duration.ofMillis(1500),
        ConfigLoader.parse("clients: {replica_timeout_seconds: 1.5}\n", List.of())
            .clients()
            .options()
            .replicaTimeout());
    assertEquals(
        "config error: clients.replica_timeout_seconds must be > 0 (got 0)",
        errorOf("clients: {replica_timeout_seconds: 0}\n"));
    assertEquals("s3cret", options.bearerToken());
    assertNull(RunConfig.defaults().clients().options().bearerToken());
  }

  private static void assertError(String prefix, String yaml) {
    String message = errorOf(yaml);
    assertTrue(message.startsWith(prefix), message);
    assertFalse(message.contains("\n"), message);
  }

  private static String errorOf(String yaml, String... overrides) {
    return assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, List.of(overrides)))
        .getMessage();
  }
}

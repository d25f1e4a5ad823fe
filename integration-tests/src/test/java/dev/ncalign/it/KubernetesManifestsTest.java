package dev.ncalign.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.ncalign.cli.Ncalign;
import dev.ncalign.orchestrator.client.ClientOptions;
import dev.ncalign.orchestrator.client.RewardClient;
import dev.ncalign.orchestrator.config.ConfigLoader;
import dev.ncalign.orchestrator.config.RunConfig;
import dev.ncalign.proto.v1.PolicyServiceGrpc;
import dev.ncalign.proto.v1.RewardServiceGrpc;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

/**
 * Renders {@code deploy/k8s} with {@code kubectl kustomize} (base and overlays) and checks the
 * manifests against what the code accepts: every container's arguments parse with the servers' and
 * the orchestrator's own picocli commands; ports, probes and targets agree with those arguments and
 * with the headless Services; token, TLS and model paths lie on the right volumes; the run config
 * in the ConfigMap is {@code configs/k8s.yaml} and loads with {@link ConfigLoader}. Nothing is
 * deployed: no cluster here.
 */
class KubernetesManifestsTest {

  private static final Path ROOT = repositoryRoot();
  private static final YAMLMapper YAML = new YAMLMapper();
  private static final String TOKEN_SECRET = "ncalign-push-token";
  private static final String TOKEN_KEY = "token";
  private static final String TLS_SECRET = "ncalign-tls";
  private static final String MODELS_CLAIM = "ncalign-models";
  private static final String RUNS_CLAIM = "ncalign-runs";
  private static final Pattern POLICY_POD_HOST =
      Pattern.compile("([a-z0-9-]+)-(\\d+)\\.([a-z0-9-]+)\\.([a-z0-9-]+)\\.svc\\.cluster\\.local");
  private static final Pattern SERVICE_HOST =
      Pattern.compile("([a-z0-9-]+)\\.([a-z0-9-]+)\\.svc\\.cluster\\.local");

  @Test
  void baseAgreesWithTheServersAndTheOrchestrator() {
    Manifests base = render("deploy/k8s/base");
    check(base);
    assertNotNull(base.find("Job", "ncalign-train"), "the base runs the orchestrator");
    for (JsonNode container : base.containers()) {
      assertFalse(
          container.path("resources").path("limits").has("nvidia.com/gpu"), "no GPU in the base");
    }
  }

  @Test
  void gpuOverlayAddsGpusToEveryWorkload() {
    Manifests gpu = render("deploy/k8s/overlays/gpu");
    check(gpu);
    for (JsonNode container : gpu.containers()) {
      String name = container.path("name").asText();
      assertEquals(
          1,
          container.path("resources").path("limits").path("nvidia.com/gpu").asInt(),
          name + ": one GPU");
      assertTrue(container.path("image").asText().endsWith("-gpu"), name + ": the -gpu image");
    }
    ParseResult policy = policyArgs(gpu.container("StatefulSet", "policy"));
    assertEquals(
        "gpu",
        policy.matchedOptionValue("--device", "auto"),
        "policy servers fail rather than run on the CPU");
    JsonNode env = gpu.container("StatefulSet", "policy").path("env");
    assertTrue(
        env.toString().contains("PYTORCH_LIBRARY_PATH"), "DJL is pointed at a CUDA libtorch");
  }

  @Test
  void tlsOverlayServesTlsWithTcpProbesAndLeavesThePlaintextOrchestratorOut() {
    Manifests tls = render("deploy/k8s/overlays/tls");
    check(tls);
    assertNull(tls.find("Job", "ncalign-train"), "the orchestrator's client speaks plaintext only");
    for (String[] workload : new String[][] {{"StatefulSet", "policy"}, {"Deployment", "reward"}}) {
      JsonNode container = tls.container(workload[0], workload[1]);
      List<String> args = args(container);
      assertTrue(
          args.contains("--tls-cert") && args.contains("--tls-key"), workload[1] + " serves TLS");
    }
  }

  @Test
  void runConfigInTheConfigMapIsConfigsK8sYaml() throws IOException {
    Manifests base = render("deploy/k8s/base");
    JsonNode job = base.container("Job", "ncalign-train");
    String configPath = orchestratorOption(job, "--config");
    ConfigMapFile file = base.configMapFile(base.workload("Job", "ncalign-train"), job, configPath);
    assertEquals(
        Files.readString(ROOT.resolve("configs/k8s.yaml")),
        file.content(),
        "deploy/k8s/base/k8s.yaml must be a copy of configs/k8s.yaml");
  }

  @Test
  void readmeCreatesTheSecretTheManifestsMount() throws IOException {
    String readme = Files.readString(ROOT.resolve("deploy/k8s/README.md"));
    assertTrue(
        readme.contains(
            "create secret generic " + TOKEN_SECRET + " --from-literal=" + TOKEN_KEY + "="),
        "deploy/k8s/README.md shows how to create the Secret "
            + TOKEN_SECRET
            + " (key "
            + TOKEN_KEY
            + ")");
    assertTrue(readme.contains("create secret tls " + TLS_SECRET), "and the TLS one");
  }

  /**
   * The orchestrator's client takes a {@code dns:///host:port} target, as configs/k8s.yaml names
   * the reward Service (here resolving localhost instead of the cluster's DNS).
   */
  @Test
  void clientTakesDnsTargets() throws Exception {
    HealthStatusManager health = new HealthStatusManager();
    Server server =
        NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
            .addService(health.getHealthService())
            .build()
            .start();
    try (RewardClient client =
        new RewardClient(
            List.of("dns:///localhost:" + server.getPort()), ClientOptions.defaults())) {
      assertTrue(client.awaitReady(Duration.ofSeconds(20)), "dns:///localhost reaches the server");
    } finally {
      server.shutdownNow();
    }
  }

  /** The checks fail, for the right reason, on a wrong flag, port, probe, target or Secret. */
  @Test
  void checksCatchMistakes() {
    String base = kustomize("deploy/k8s/base");
    assertMistakeCaught(
        base, "- --metrics-port\n", "- --metric-port\n", "Unknown options: '--metric-port'");
    assertMistakeCaught(
        base, "containerPort: 50052", "containerPort: 50053", "container port grpc = --port");
    assertMistakeCaught(
        base, "secretName: " + TOKEN_SECRET + "\n", "secretName: other-token\n", "Secret name");
    assertMistakeCaught(
        base,
        "port: 50051\n            service: ncalign.v1.PolicyService",
        "port: 50061\n            service: ncalign.v1.PolicyService",
        "readinessProbe port = --port");
    assertMistakeCaught(
        base,
        "service: ncalign.v1.RewardService",
        "service: ncalign.RewardService",
        "which the server does not report");
    assertMistakeCaught(
        base,
        "replicas: 2\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: policy-server",
        "replicas: 3\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: policy-server",
        "policy.targets lists every one of the 3 policy replicas");
    assertMistakeCaught(
        base, "reward-headless.ncalign.svc", "reward.ncalign.svc", "Service in dns:///reward.");
    assertMistakeCaught(
        base,
        "token_file: /var/run/secrets/ncalign/push-token/token",
        "token_file: /var/run/secrets/ncalign/token",
        "clients.token_file /var/run/secrets/ncalign/token is on no volume");
    assertMistakeCaught(base, "- --resume\n", "- --set=run.rounds=3\n", "the Job passes --resume");
  }

  private static void assertMistakeCaught(
      String rendered, String from, String to, String expectedMessage) {
    assertTrue(rendered.contains(from), "the rendering contains " + from.strip());
    // Every occurrence: the config text is in the ConfigMap once, the args once per workload.
    Manifests broken = Manifests.parse(rendered.replace(from, to));
    AssertionError caught =
        assertThrows(AssertionError.class, () -> check(broken), expectedMessage + ": not caught");
    assertTrue(
        caught.getMessage().contains(expectedMessage),
        "caught for another reason than \"" + expectedMessage + "\": " + caught.getMessage());
  }

  // ---- the checks
  // -------------------------------------------------------------------------------------

  private static void check(Manifests m) {
    String namespace = m.namespace();
    for (JsonNode doc : m.docs) {
      if (!doc.path("kind").asText().equals("Namespace")) {
        assertEquals(
            namespace,
            doc.path("metadata").path("namespace").asText(),
            "namespace of " + m.name(doc));
      }
      assertFalse(
          doc.path("kind").asText().equals("Secret"), "no Secret is committed: " + m.name(doc));
    }

    JsonNode policySet = m.workload("StatefulSet", "policy");
    JsonNode policy = m.container("StatefulSet", "policy");
    ParseResult policyArgs = policyArgs(policy);
    int policyPort = serverPorts(m, policySet, policy, policyArgs, PolicyServiceGrpc.SERVICE_NAME);
    Path policyTokenFile = policyArgs.matchedOptionValue("--push-token-file", (Path) null);
    String policyToken = policyTokenFile == null ? null : policyTokenFile.toString();
    // The server's own rule (PolicyServer.readToken): beyond loopback, PushWeights needs a token.
    assertNotNull(
        policyToken,
        "policy server binds "
            + policyArgs.matchedOptionValue("--bind", "")
            + " in a pod, so --push-token-file is required");
    assertSecretFile(
        m, policySet, policy, policyToken, TOKEN_SECRET, TOKEN_KEY, "--push-token-file");
    assertOnClaim(
        m,
        policySet,
        policy,
        policyArgs.matchedOptionValue("--model", (Path) null).toString(),
        MODELS_CLAIM,
        "policy --model");
    assertTls(m, policySet, policy, policyArgs);
    JsonNode policyService = headlessService(m, policySet, policyPort);
    assertEquals(
        policyService.path("metadata").path("name").asText(),
        policySet.path("spec").path("serviceName").asText(),
        "the StatefulSet's serviceName is its headless Service (pod DNS names)");

    JsonNode rewardDeployment = m.workload("Deployment", "reward");
    JsonNode reward = m.container("Deployment", "reward");
    ParseResult rewardArgs = rewardArgs(reward);
    int rewardPort =
        serverPorts(m, rewardDeployment, reward, rewardArgs, RewardServiceGrpc.SERVICE_NAME);
    Path rewardToken = rewardArgs.matchedOptionValue("--token-file", (Path) null);
    if (rewardToken != null) {
      assertSecretFile(
          m,
          rewardDeployment,
          reward,
          rewardToken.toString(),
          TOKEN_SECRET,
          TOKEN_KEY,
          "--token-file");
    }
    assertOnClaim(
        m,
        rewardDeployment,
        reward,
        rewardArgs.matchedOptionValue("--model", (Path) null).toString(),
        MODELS_CLAIM,
        "reward --model");
    assertTls(m, rewardDeployment, reward, rewardArgs);
    JsonNode rewardService = headlessService(m, rewardDeployment, rewardPort);

    JsonNode job = m.find("Job", "ncalign-train");
    if (job != null) {
      checkOrchestrator(
          m, job, namespace, policySet, policyService, policyPort, rewardService, rewardPort);
    }
  }

  private static void checkOrchestrator(
      Manifests m,
      JsonNode job,
      String namespace,
      JsonNode policySet,
      JsonNode policyService,
      int policyPort,
      JsonNode rewardService,
      int rewardPort) {
    JsonNode container = m.container("Job", "ncalign-train");
    List<String> args = args(container);
    ParseResult parsed = parse(Ncalign.commandLine(), args, "orchestrator");
    assertTrue(
        parsed.hasSubcommand() && parsed.subcommand().commandSpec().name().equals("train"),
        "the Job runs `ncalign train`: " + args);
    assertTrue(
        parsed.subcommand().hasMatchedOption("--resume"),
        "the Job passes --resume, so a restarted pod continues the run (an empty run dir starts at round 1)");
    String restart = job.path("spec").path("template").path("spec").path("restartPolicy").asText();
    assertTrue(
        restart.equals("OnFailure") || restart.equals("Never"),
        "a Job's restartPolicy: " + restart);

    String configPath = orchestratorOption(container, "--config");
    ConfigMapFile file = m.configMapFile(job, container, configPath);
    RunConfig config;
    try {
      config = ConfigLoader.parse(file.content(), List.of());
    } catch (RuntimeException e) {
      throw new AssertionError(
          "ConfigMap " + file.configMap() + " key " + file.key() + ": " + e.getMessage(), e);
    }

    assertOnClaim(m, job, container, config.run().dir().toString(), RUNS_CLAIM, "run.dir");
    assertOnClaim(
        m, job, container, config.policy().model().toString(), MODELS_CLAIM, "policy.model");
    assertOnClaim(
        m, job, container, config.prompts().file().toString(), MODELS_CLAIM, "prompts.file");
    assertNotNull(
        config.clients().tokenFile(), "clients.token_file: the servers require the token");
    assertSecretFile(
        m,
        job,
        container,
        config.clients().tokenFile().toString(),
        TOKEN_SECRET,
        TOKEN_KEY,
        "clients.token_file");

    // Policy targets: every pod of the StatefulSet by its stable name, each on the gRPC port.
    assertFalse(config.policy().local(), "policy.targets names the running servers");
    int replicas = policySet.path("spec").path("replicas").asInt(1);
    Set<Integer> ordinals = new TreeSet<>();
    for (String target : config.policy().targets()) {
      HostPort hp = HostPort.of(target);
      Matcher pod = POLICY_POD_HOST.matcher(hp.host());
      assertTrue(
          pod.matches(),
          "policy target "
              + target
              + " names a StatefulSet pod (<set>-<i>.<service>.<ns>.svc.cluster.local)");
      assertEquals(
          policySet.path("metadata").path("name").asText(),
          pod.group(1),
          "StatefulSet in " + target);
      assertEquals(
          policyService.path("metadata").path("name").asText(),
          pod.group(3),
          "headless Service in " + target);
      assertEquals(namespace, pod.group(4), "namespace in " + target);
      assertEquals(policyPort, hp.port(), "port of " + target);
      ordinals.add(Integer.parseInt(pod.group(2)));
    }
    Set<Integer> expected = new TreeSet<>();
    for (int i = 0; i < replicas; i++) {
      expected.add(i);
    }
    assertEquals(
        expected,
        ordinals,
        "policy.targets lists every one of the "
            + replicas
            + " policy replicas once (PushWeights must reach each)");
    assertEquals(replicas, config.policy().targets().size(), "policy.targets has no duplicates");

    // Reward targets: the headless Service through the dns resolver.
    assertFalse(config.reward().local(), "reward.targets names the running servers");
    for (String target : config.reward().targets()) {
      assertTrue(
          target.startsWith("dns:///"),
          "reward target " + target + " resolves the headless Service (dns:///)");
      HostPort hp = HostPort.of(target);
      Matcher service = SERVICE_HOST.matcher(hp.host());
      assertTrue(
          service.matches(), "reward target " + target + " is <service>.<ns>.svc.cluster.local");
      assertEquals(
          rewardService.path("metadata").path("name").asText(),
          service.group(1),
          "Service in " + target);
      assertEquals(namespace, service.group(2), "namespace in " + target);
      assertEquals(rewardPort, hp.port(), "port of " + target);
    }
  }

  /**
   * --port and --metrics-port against the container ports, and the probes against the gRPC port;
   * returns the gRPC port.
   */
  private static int serverPorts(
      Manifests m, JsonNode workload, JsonNode container, ParseResult args, String grpcService) {
    String name = container.path("name").asText();
    int port = args.matchedOptionValue("--port", -1);
    assertTrue(port > 0, name + ": a fixed --port (0 would pick a random one)");
    assertEquals(port, containerPort(container, "grpc"), name + ": container port grpc = --port");
    int metrics = args.matchedOptionValue("--metrics-port", -1);
    if (metrics >= 0) {
      assertEquals(
          metrics,
          containerPort(container, "metrics"),
          name + ": container port metrics = --metrics-port");
    }
    String bind = args.matchedOptionValue("--bind", "127.0.0.1");
    assertFalse(
        isLoopback(bind), name + ": --bind " + bind + " would be unreachable from other pods");

    boolean tls = args.hasMatchedOption("--tls-cert");
    for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
      JsonNode p = container.path(probe);
      assertFalse(p.isMissingNode(), name + ": " + probe);
      if (tls) {
        // kubelet's gRPC probe cannot speak TLS.
        assertFalse(p.has("grpc"), name + ": " + probe + " cannot be a gRPC probe on a TLS port");
        assertEquals(
            port,
            p.path("tcpSocket").path("port").asInt(),
            name + ": " + probe + " tcpSocket port");
      } else {
        assertTrue(p.has("grpc"), name + ": " + probe + " is a native gRPC probe");
        assertEquals(
            port, p.path("grpc").path("port").asInt(), name + ": " + probe + " port = --port");
        String service = p.path("grpc").path("service").asText("");
        assertTrue(
            service.isEmpty() || service.equals(grpcService),
            name
                + ": "
                + probe
                + " asks the health service about \""
                + service
                + "\", which the server does not report");
      }
    }
    assertEquals(
        "/metrics",
        workload
            .path("spec")
            .path("template")
            .path("metadata")
            .path("annotations")
            .path("prometheus.io/path")
            .asText("/metrics"));
    String scrapePort =
        workload
            .path("spec")
            .path("template")
            .path("metadata")
            .path("annotations")
            .path("prometheus.io/port")
            .asText(null);
    if (scrapePort != null) {
      assertEquals(
          metrics, Integer.parseInt(scrapePort), name + ": prometheus.io/port = --metrics-port");
    }
    return port;
  }

  /** The headless Service selecting the workload's pods, with a port reaching {@code grpcPort}. */
  private static JsonNode headlessService(Manifests m, JsonNode workload, int grpcPort) {
    JsonNode podLabels = workload.path("spec").path("template").path("metadata").path("labels");
    String workloadName = workload.path("metadata").path("name").asText();
    JsonNode container =
        workload.path("spec").path("template").path("spec").path("containers").get(0);
    for (JsonNode service : m.all("Service")) {
      JsonNode selector = service.path("spec").path("selector");
      if (selector.isEmpty() || !matches(selector, podLabels)) {
        continue;
      }
      assertEquals(
          "None",
          service.path("spec").path("clusterIP").asText(),
          m.name(service) + " is headless");
      for (JsonNode port : service.path("spec").path("ports")) {
        JsonNode target = port.path("targetPort");
        int resolved =
            target.isMissingNode()
                ? port.path("port").asInt()
                : target.isInt() ? target.asInt() : containerPort(container, target.asText());
        if (resolved == grpcPort) {
          // Clients of a headless Service dial the pod IPs, i.e. the container port: keep the two
          // equal.
          assertEquals(
              grpcPort, port.path("port").asInt(), m.name(service) + ": port = container port");
          return service;
        }
      }
      fail(
          m.name(service)
              + " selects "
              + workloadName
              + " but has no port on its gRPC port "
              + grpcPort);
    }
    throw new AssertionError("no Service selects the pods of " + workloadName);
  }

  private static void assertTls(
      Manifests m, JsonNode workload, JsonNode container, ParseResult args) {
    Path cert = args.matchedOptionValue("--tls-cert", (Path) null);
    Path key = args.matchedOptionValue("--tls-key", (Path) null);
    assertEquals(
        cert == null,
        key == null,
        container.path("name").asText() + ": --tls-cert and --tls-key together");
    if (cert != null) {
      assertSecretFile(
          m, workload, container, cert.toString(), TLS_SECRET, "tls.crt", "--tls-cert");
      assertSecretFile(m, workload, container, key.toString(), TLS_SECRET, "tls.key", "--tls-key");
    }
  }

  /**
   * {@code path} is the file of Secret {@code secret}'s {@code key}, as mounted in {@code
   * container}.
   */
  private static void assertSecretFile(
      Manifests m,
      JsonNode workload,
      JsonNode container,
      String path,
      String secret,
      String key,
      String what) {
    Mounted mounted = mounted(workload, container, path, what);
    JsonNode volume = mounted.volume().path("secret");
    assertFalse(
        volume.isMissingNode(),
        what + " " + path + " is on a Secret volume, not " + mounted.volume());
    assertEquals(secret, volume.path("secretName").asText(), what + ": Secret name");
    assertEquals(
        key,
        secretKeyAt(volume, mounted.relative()),
        what + ": " + path + " is the Secret's key " + key);
  }

  /**
   * {@code path} lies on a volume of PersistentVolumeClaim {@code claim}, and the claim is in the
   * rendering.
   */
  private static void assertOnClaim(
      Manifests m, JsonNode workload, JsonNode container, String path, String claim, String what) {
    Mounted mounted = mounted(workload, container, path, what);
    assertEquals(
        claim,
        mounted.volume().path("persistentVolumeClaim").path("claimName").asText(),
        what + " " + path + " is on the claim " + claim);
    assertNotNull(
        m.find("PersistentVolumeClaim", claim), "PersistentVolumeClaim " + claim + " is deployed");
  }

  private record Mounted(JsonNode volume, String relative) {}

  /**
   * The volume holding {@code path} in {@code container} (longest mountPath prefix) and the path
   * inside it.
   */
  private static Mounted mounted(JsonNode workload, JsonNode container, String path, String what) {
    assertTrue(
        path.startsWith("/"),
        what + ": " + path + " is absolute (the pod's working directory is not the repository)");
    JsonNode best = null;
    for (JsonNode mount : container.path("volumeMounts")) {
      String at = mount.path("mountPath").asText();
      if ((path.equals(at) || path.startsWith(at.endsWith("/") ? at : at + "/"))
          && (best == null || at.length() > best.path("mountPath").asText().length())) {
        best = mount;
      }
    }
    if (best == null) {
      throw new AssertionError(
          what + " " + path + " is on no volume mounted in " + container.path("name").asText());
    }
    String volumeName = best.path("name").asText();
    for (JsonNode volume : workload.path("spec").path("template").path("spec").path("volumes")) {
      if (volume.path("name").asText().equals(volumeName)) {
        String at = best.path("mountPath").asText();
        String relative =
            path.length() > at.length() ? path.substring(at.length()).replaceFirst("^/", "") : "";
        return new Mounted(volume, relative);
      }
    }
    throw new AssertionError("volumeMount " + volumeName + " has no volume");
  }

  /**
   * The key a Secret (or ConfigMap) volume shows at {@code relative}: through items, or the key
   * itself.
   */
  private static String secretKeyAt(JsonNode source, String relative) {
    JsonNode items = source.path("items");
    if (items.isArray() && !items.isEmpty()) {
      for (JsonNode item : items) {
        if (item.path("path").asText().equals(relative)) {
          return item.path("key").asText();
        }
      }
      return "(not projected: " + relative + ")";
    }
    return relative;
  }

  // ---- command lines
  // ----------------------------------------------------------------------------------

  private static ParseResult policyArgs(JsonNode container) {
    return parse(new CommandLine(new dev.ncalign.policy.Main()), args(container), "policy-server");
  }

  private static ParseResult rewardArgs(JsonNode container) {
    return parse(new CommandLine(new dev.ncalign.reward.Main()), args(container), "reward-server");
  }

  private static String orchestratorOption(JsonNode container, String option) {
    ParseResult parsed = parse(Ncalign.commandLine(), args(container), "orchestrator");
    Path value = parsed.subcommand().matchedOptionValue(option, (Path) null);
    assertNotNull(value, "the orchestrator Job passes " + option);
    return value.toString();
  }

  /**
   * Parses with the real picocli spec: unknown, repeated or ill-typed flags and missing required
   * ones fail.
   */
  private static ParseResult parse(CommandLine cli, List<String> args, String who) {
    try {
      return cli.parseArgs(args.toArray(String[]::new));
    } catch (CommandLine.ParameterException e) {
      throw new AssertionError(
          who + " does not accept its container args " + args + ": " + e.getMessage(), e);
    }
  }

  private static List<String> args(JsonNode container) {
    assertTrue(
        container.path("command").isMissingNode(),
        container.path("name").asText() + ": args only; the image's entrypoint starts the JVM");
    List<String> args = new ArrayList<>();
    container
        .path("args")
        .forEach(
            arg -> {
              assertTrue(arg.isTextual(), "args are strings: " + arg);
              args.add(arg.asText());
            });
    return args;
  }

  private static int containerPort(JsonNode container, String name) {
    for (JsonNode port : container.path("ports")) {
      if (port.path("name").asText().equals(name)) {
        return port.path("containerPort").asInt();
      }
    }
    throw new AssertionError(
        container.path("name").asText() + " has no container port named " + name);
  }

  private static boolean matches(JsonNode selector, JsonNode labels) {
    for (Iterator<Map.Entry<String, JsonNode>> it = selector.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().asText().equals(labels.path(e.getKey()).asText(null))) {
        return false;
      }
    }
    return true;
  }

  private static boolean isLoopback(String bind) {
    try {
      return InetAddress.getByName(bind).isLoopbackAddress();
    } catch (IOException e) {
      throw new AssertionError("--bind " + bind + " does not resolve", e);
    }
  }

  private record HostPort(String host, int port) {
    static HostPort of(String target) {
      String plain = target.startsWith("dns:///") ? target.substring("dns:///".length()) : target;
      int colon = plain.lastIndexOf(':');
      assertTrue(colon > 0, "target " + target + " has a port");
      return new HostPort(plain.substring(0, colon), Integer.parseInt(plain.substring(colon + 1)));
    }
  }

  // ---- rendering
  // --------------------------------------------------------------------------------------

  private record ConfigMapFile(String configMap, String key, String content) {}

  /** The parsed documents of one rendering. */
  private record Manifests(List<JsonNode> docs) {
    static Manifests parse(String yaml) {
      List<JsonNode> docs = new ArrayList<>();
      try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(yaml)) {
        while (it.hasNext()) {
          JsonNode doc = it.next();
          if (doc != null && doc.isObject() && doc.has("kind")) {
            docs.add(doc);
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      assertFalse(docs.isEmpty(), "kustomize rendered nothing");
      return new Manifests(docs);
    }

    List<JsonNode> all(String kind) {
      return docs.stream().filter(d -> d.path("kind").asText().equals(kind)).toList();
    }

    JsonNode find(String kind, String name) {
      return all(kind).stream()
          .filter(d -> d.path("metadata").path("name").asText().equals(name))
          .findFirst()
          .orElse(null);
    }

    JsonNode workload(String kind, String name) {
      JsonNode found = find(kind, name);
      assertNotNull(found, kind + " " + name + " is rendered");
      return found;
    }

    /** The only container of a workload. */
    JsonNode container(String kind, String name) {
      JsonNode containers =
          workload(kind, name).path("spec").path("template").path("spec").path("containers");
      assertEquals(1, containers.size(), kind + " " + name + ": one container");
      return containers.get(0);
    }

    List<JsonNode> containers() {
      List<JsonNode> out = new ArrayList<>();
      for (String[] w :
          new String[][] {
            {"StatefulSet", "policy"}, {"Deployment", "reward"}, {"Job", "ncalign-train"}
          }) {
        if (find(w[0], w[1]) != null) {
          out.add(container(w[0], w[1]));
        }
      }
      return out;
    }

    String namespace() {
      List<JsonNode> namespaces = all("Namespace");
      assertEquals(1, namespaces.size(), "one Namespace");
      return namespaces.get(0).path("metadata").path("name").asText();
    }

    String name(JsonNode doc) {
      return doc.path("kind").asText() + " " + doc.path("metadata").path("name").asText();
    }

    ConfigMapFile configMapFile(JsonNode workload, JsonNode container, String path) {
      Mounted mounted = mounted(workload, container, path, "--config");
      JsonNode source = mounted.volume().path("configMap");
      assertFalse(source.isMissingNode(), "--config " + path + " is on a ConfigMap volume");
      String name = source.path("name").asText();
      JsonNode configMap = find("ConfigMap", name);
      assertNotNull(configMap, "ConfigMap " + name + " is rendered");
      String key = secretKeyAt(source, mounted.relative());
      JsonNode content = configMap.path("data").path(key);
      assertTrue(content.isTextual(), "ConfigMap " + name + " has the key " + key);
      return new ConfigMapFile(name, key, content.asText());
    }
  }

  private static Manifests render(String dir) {
    return Manifests.parse(kustomize(dir));
  }

  private static String kustomize(String dir) {
    Optional<Path> kubectl = onPath("kubectl");
    assumeTrue(
        kubectl.isPresent(),
        "kubectl is not on PATH (.ci/run installs Debian's kubernetes-client)");
    try {
      Path err = Files.createTempFile("kustomize", ".err");
      Process process =
          new ProcessBuilder(kubectl.get().toString(), "kustomize", dir)
              .directory(ROOT.toFile())
              .redirectError(err.toFile())
              .start();
      byte[] out = process.getInputStream().readAllBytes();
      assertTrue(process.waitFor(2, TimeUnit.MINUTES), "kubectl kustomize " + dir + " finished");
      String errors = Files.readString(err);
      Files.delete(err);
      assertEquals(0, process.exitValue(), "kubectl kustomize " + dir + ": " + errors);
      return new String(out, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static Optional<Path> onPath(String command) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path candidate = Path.of(dir, command);
      if (Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  private static Path repositoryRoot() {
    Path dir = Path.of("").toAbsolutePath();
    for (Path p = dir; p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve("deploy/k8s")) && Files.isRegularFile(p.resolve("pom.xml"))) {
        return p;
      }
    }
    throw new IllegalStateException("no deploy/k8s above " + dir);
  }
}

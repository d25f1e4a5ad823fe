package dev.ncalign.orchestrator.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ncalign.orchestrator.store.RunStore;
import dev.ncalign.orchestrator.store.SampleRecord;
import dev.ncalign.orchestrator.web.ReplicaStatus.Replica;
import dev.ncalign.orchestrator.web.ReplicaStatus.Role;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JSON API, the event stream, the assets and /metrics, over real HTTP. */
class DashboardApiTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();
  private Dashboard dashboard;

  @TempDir Path runDir;

  @AfterEach
  void close() {
    if (dashboard != null) {
      dashboard.close();
    }
  }

  private static final ReplicaStatus TWO_REPLICAS =
      () ->
          List.of(
              new Replica(Role.POLICY, "127.0.0.1:7001", true, 9L),
              new Replica(Role.REWARD, "127.0.0.1:7002", false, null));

  @Test
  void apiServesTheRoundsFedToIt() throws Exception {
    dashboard = Dashboard.start(0, "api-run", RunStore.open(runDir), TWO_REPLICAS);
    Rounds.feed(dashboard, 1, 2);
    dashboard.roundCompleted(Rounds.metrics(3), Rounds.batchWithNaN(3));

    JsonNode metrics = getJson("api/metrics");
    assertEquals(3, metrics.size());
    assertEquals(
        List.of(1, 2, 3),
        Stream.of(0, 1, 2).map(i -> metrics.get(i).get("round").asInt()).toList());
    assertEquals(0.3, metrics.get(2).get("mean_reward").asDouble(), 1e-9);
    assertEquals(-16.0, metrics.get(2).get("best_logp_after").asDouble(), 1e-9);
    assertTrue(metrics.get(0).get("eval_reward").isNull(), "no eval in round 1");
    assertEquals(0.25, metrics.get(1).get("eval_reward").asDouble(), 1e-9);

    JsonNode samples = getJson("api/samples?limit=4");
    assertEquals(4, samples.size());
    assertEquals(3, samples.get(0).get("round").asInt());
    assertTrue(
        samples.get(0).get("reward").isNull(),
        "the NaN reward is served as null: " + samples.get(0));
    assertEquals("round 3 prompt 1 sample 2", samples.get(0).get("response").asText());
    assertEquals(Rounds.PROMPTS * Rounds.K * 3, getJson("api/samples?limit=1000").size());
    assertEquals(400, get("api/samples?limit=lots").statusCode());

    JsonNode status = getJson("api/status");
    assertEquals("api-run", status.get("run_name").asText());
    assertEquals(3, status.get("rounds_done").asInt());
    assertEquals(
        9, status.get("live_version").asLong(), "the replica's version wins over the loop's");
    assertEquals("POLICY", status.get("replicas").get(0).get("role").asText());
    assertTrue(status.get("replicas").get(0).get("healthy").asBoolean());
    assertEquals("127.0.0.1:7002", status.get("replicas").get(1).get("target").asText());
    assertTrue(status.get("replicas").get(1).get("live_version").isNull());
  }

  @Test
  void prometheusCountsRoundsRewardsAndPhases() throws Exception {
    dashboard = Dashboard.start(0, "prom-run", RunStore.open(runDir), ReplicaStatus.none());
    Rounds.feed(dashboard, 1, 2);
    dashboard.roundCompleted(Rounds.metrics(3), Rounds.batchWithNaN(3));

    HttpResponse<String> response = get("metrics");
    assertEquals(200, response.statusCode());
    assertTrue(
        response.headers().firstValue("Content-Type").orElseThrow().startsWith("text/plain"));
    String text = response.body();
    int finite = Rounds.PROMPTS * Rounds.K * 3 - 1;
    assertMetric(text, "ncalign_rounds_completed_total", 3);
    assertMetric(text, "ncalign_policy_live_version", 3);
    assertMetric(text, "ncalign_reward_mean_last", 0.3);
    assertMetric(text, "ncalign_rewards_nonfinite_total", 1);
    assertMetric(text, "ncalign_reward_count", finite);
    // Rewards are r + p + k/10 with r ≤ 3, p ≤ 1: every one is at most 4.2, all above 1.
    assertMetric(text, "ncalign_reward_bucket{le=\"1.0\"}", 1);
    assertMetric(text, "ncalign_reward_bucket{le=\"+Inf\"}", finite);
    assertMetric(text, "ncalign_round_phase_seconds_count{phase=\"learn\"}", 3);
    assertMetric(text, "ncalign_round_phase_seconds_sum{phase=\"generate\"}", 1.5);
    assertMetric(text, "ncalign_round_phase_seconds_sum{phase=\"learner_wait\"}", 0.3);
    assertMetric(text, "ncalign_round_phase_seconds_sum{phase=\"reference\"}", 0.12);
    assertMetric(text, "ncalign_round_staleness", 1);
  }

  @Test
  void replicaStatesReachTheStatusApiAndPrometheusAndVanishedReplicasLeave() throws Exception {
    List<Replica> replicas =
        new java.util.concurrent.CopyOnWriteArrayList<>(
            List.of(
                new Replica(Role.POLICY, "127.0.0.1:7001", true, 4L, "up", "admitted at v4", 1),
                new Replica(
                    Role.POLICY,
                    "127.0.0.1:7003",
                    false,
                    3L,
                    "down",
                    "Generate: UNAVAILABLE: Connection refused",
                    2),
                new Replica(Role.REWARD, "127.0.0.1:7002", true, null)));
    dashboard = Dashboard.start(0, "fleet-run", RunStore.open(runDir), () -> replicas);

    JsonNode down = getJson("api/status").get("replicas").get(1);
    assertEquals("down", down.get("state").asText());
    assertEquals("Generate: UNAVAILABLE: Connection refused", down.get("detail").asText());
    assertEquals(2, down.get("outages").asInt());
    String text = get("metrics").body();
    assertMetric(text, "ncalign_replica_up{role=\"policy\",target=\"127.0.0.1:7001\"}", 1);
    assertMetric(text, "ncalign_replica_up{role=\"policy\",target=\"127.0.0.1:7003\"}", 0);
    assertMetric(text, "ncalign_replica_up{role=\"reward\",target=\"127.0.0.1:7002\"}", 1);
    assertMetric(text, "ncalign_replica_outages{role=\"policy\",target=\"127.0.0.1:7003\"}", 2);

    replicas.remove(1);
    assertFalse(get("metrics").body().contains("127.0.0.1:7003"), "a dropped replica leaves");
  }

  @Test
  void aResumedRunShowsItsHistory() throws Exception {
    RunStore store = RunStore.open(runDir);
    for (int r = 1; r <= 4; r++) {
      store.appendMetrics(Rounds.metrics(r));
      store.appendSamples(List.of(new SampleRecord(r, r - 1L, "p", "old response " + r, r)));
    }
    dashboard = Dashboard.start(0, "resumed", store, ReplicaStatus.none());

    assertEquals(4, getJson("api/metrics").size());
    assertEquals("old response 4", getJson("api/samples?limit=1").get(0).get("response").asText());
    JsonNode status = getJson("api/status");
    assertEquals(4, status.get("rounds_done").asInt());
    assertEquals(4, status.get("live_version").asLong(), "round 4 sampled v3 and pushed v4");
    assertMetric(get("metrics").body(), "ncalign_policy_live_version", 4);
  }

  @Test
  void eventStreamSendsOneEventPerRound() throws Exception {
    dashboard = Dashboard.start(0, "sse-run", RunStore.open(runDir), ReplicaStatus.none());
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(dashboard.url() + "api/events")).build();
    HttpResponse<Stream<String>> response = http.send(request, HttpResponse.BodyHandlers.ofLines());
    assertTrue(
        response
            .headers()
            .firstValue("Content-Type")
            .orElseThrow()
            .startsWith("text/event-stream"));
    try (Stream<String> lines = response.body()) {
      Iterator<String> it = lines.iterator();
      assertEquals(": connected", it.next(), "the stream opens with a comment once subscribed");
      Rounds.feed(dashboard, 1, 2);
      for (int round = 1; round <= 2; round++) {
        String event = nextNonEmpty(it);
        assertEquals("event: round", event);
        JsonNode data = JSON.readTree(nextNonEmpty(it).substring("data: ".length()));
        assertEquals(round, data.get("metrics").get("round").asInt());
        assertEquals(round, data.get("rounds_done").asInt());
        assertEquals(round, data.get("live_version").asLong());
        assertEquals(Rounds.PROMPTS * Rounds.K, data.get("samples").size());
        assertEquals(
            "round " + round + " prompt 1 sample 2",
            data.get("samples").get(0).get("response").asText());
      }
    }
  }

  @Test
  void servesThePageAndItsScriptsFromTheJar() throws Exception {
    dashboard = Dashboard.start(0, "page", RunStore.open(runDir), ReplicaStatus.none());
    assertTrue(dashboard.url().matches("http://127\\.0\\.0\\.1:\\d+/"), dashboard.url());
    HttpResponse<String> page = get("");
    assertEquals(200, page.statusCode());
    assertTrue(page.body().contains("id=\"round-count\""));
    for (String asset :
        List.of("assets/dashboard.js", "assets/dashboard.css", "assets/chart.umd.min.js")) {
      HttpResponse<String> response = get(asset);
      assertEquals(200, response.statusCode(), asset);
      assertTrue(response.body().length() > 1000, asset + " is served whole");
    }
    assertTrue(
        get("assets/chart.umd.min.js").body().contains("Chart"), "the Chart.js WebJar is served");
    assertEquals(404, get("nothing-here").statusCode());
  }

  @Test
  void aTakenPortIsReportedWithThePort() {
    dashboard = Dashboard.start(0, "first", RunStore.open(runDir), ReplicaStatus.none());
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () ->
                Dashboard.start(
                    dashboard.port(), "second", RunStore.open(runDir), ReplicaStatus.none()));
    assertTrue(e.getMessage().contains("127.0.0.1:" + dashboard.port()), e.getMessage());
  }

  private static String nextNonEmpty(Iterator<String> it) {
    String line = it.next();
    while (line.isEmpty()) {
      line = it.next();
    }
    return line;
  }

  private static void assertMetric(String text, String series, double expected) {
    String line =
        text.lines()
            .filter(l -> l.startsWith(series + " "))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no " + series + " in\n" + text));
    assertEquals(expected, Double.parseDouble(line.substring(series.length() + 1)), 1e-9, line);
  }

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(URI.create(dashboard.url() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode getJson(String path) throws IOException, InterruptedException {
    HttpResponse<String> response = get(path);
    assertEquals(200, response.statusCode(), path);
    assertTrue(
        response.headers().firstValue("Content-Type").orElseThrow().startsWith("application/json"));
    return JSON.readTree(response.body());
  }
}

package dev.ncalign.orchestrator.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ncalign.orchestrator.config.Mode;
import dev.ncalign.orchestrator.loss.LossType;
import dev.ncalign.orchestrator.store.RoundMetrics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ComparisonReportTest {
  @TempDir Path tmp;

  /**
   * Rows whose best log-prob moves by {@code slope} per round and whose updates change it by {@code
   * step}.
   */
  private static List<RoundMetrics> run(Mode mode, double slope, double step) {
    List<RoundMetrics> rows = new ArrayList<>();
    for (int r = 1; r <= 6; r++) {
      double best = -10 + slope * r;
      rows.add(
          RoundMetrics.builder()
              .round(r)
              .mode(mode)
              .sampledVersion((long) r)
              .liveVersion(r + 1L)
              .step(2L * r)
              .meanReward(0.1 * r)
              .minReward(-1)
              .maxReward(1)
              .loss(0.5)
              .bestLogpBefore(best)
              .bestLogpAfter(best + step)
              .worstLogpBefore(-12)
              .worstLogpAfter(-12.5)
              .kl(0.1 * r)
              .meanLength(10)
              .distinct2(0.4)
              .dropped(0)
              .generateSeconds(0.1)
              .scoreSeconds(0.1)
              .learnSeconds(0.2)
              .pushSeconds(0.05)
              .tokensPerSecond(100)
              .evalReward(0.1 * r)
              .build());
    }
    return rows;
  }

  @Test
  void trendsAndTheFindingsComeFromTheMetrics() throws Exception {
    List<CellResult> results =
        List.of(
            new CellResult(
                new GridCell(LossType.NCA, Mode.OFFLINE, 1), run(Mode.OFFLINE, 0.5, 0.2), 3),
            new CellResult(
                new GridCell(LossType.INFONCA, Mode.OFFLINE, 1), run(Mode.OFFLINE, -0.25, -0.1), 4),
            new CellResult(
                new GridCell(LossType.NCA, Mode.ONLINE, 1), run(Mode.ONLINE, 0.0, 0.0), 5));
    CellResult nca = results.get(0);
    assertEquals(
        0.5 * 4, nca.bestLogpTrend(2), 1e-9, "mean of rounds 5-6 minus mean of rounds 1-2");
    assertEquals(0.2, nca.meanBestLogpChange(), 1e-9);
    assertEquals(0.6, nca.finalEvalReward(), 1e-9);

    Path report = ComparisonReport.write(tmp, results, 2, "./ncalign compare", "a test grid");
    String md = Files.readString(report);
    assertTrue(md.contains("| NCA offline | 1 | 0.100 → 0.600 |"), md);
    assertTrue(
        md.contains("NCA offline: each update raised the best response's log-prob by 0.200 nats"),
        md);
    assertTrue(
        md.contains(
            "INFONCA offline: each update lowered the best response's log-prob by 0.100 nats"),
        md);
    assertTrue(md.contains("log-prob fell by 1.000 nats"), md);
    for (String png :
        List.of(
            "eval-reward-offline.png",
            "best-logp-online.png",
            "worst-logp-offline.png",
            "kl-online.png")) {
      assertTrue(Files.size(tmp.resolve(png)) > 1000, png);
    }
  }
}

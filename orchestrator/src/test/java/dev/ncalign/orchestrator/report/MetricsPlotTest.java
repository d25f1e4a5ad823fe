package dev.ncalign.orchestrator.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ncalign.orchestrator.config.Mode;
import dev.ncalign.orchestrator.store.RoundMetrics;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsPlotTest {

  @TempDir Path dir;

  /**
   * A run whose reward climbs while the worst response's log-prob falls, like a healthy NCA run.
   */
  static List<RoundMetrics> run(int rounds, double lift, boolean evaluated) {
    return IntStream.rangeClosed(1, rounds)
        .mapToObj(
            r ->
                RoundMetrics.builder()
                    .round(r)
                    .mode(evaluated ? Mode.OFFLINE : Mode.ONLINE)
                    .sampledVersion((long) r)
                    .liveVersion(r + 1L)
                    .step(4L * r)
                    .meanReward(-1 + lift * Math.log(r))
                    .minReward(-3)
                    .maxReward(2)
                    .loss(0.69 - 0.01 * r)
                    .bestLogpBefore(-18 + 0.2 * r)
                    .bestLogpAfter(-17.8 + 0.2 * r)
                    .worstLogpBefore(-22 - 0.5 * r)
                    .worstLogpAfter(-22.5 - 0.5 * r)
                    .kl(r == 3 ? Double.NaN : 0.01 * r)
                    .meanLength(14 - 0.1 * r)
                    .distinct2(0.8 - 0.005 * r)
                    .dropped(0)
                    .generateSeconds(2)
                    .scoreSeconds(0.3)
                    .learnSeconds(3)
                    .pushSeconds(0.4)
                    .tokensPerSecond(300)
                    .evalReward(evaluated && r % 2 == 0 ? -0.5 + 0.1 * r : null)
                    .build())
        .toList();
  }

  static RoundMetrics withReward(int round, double meanReward) {
    return RoundMetrics.builder()
        .round(round)
        .mode(Mode.ONLINE)
        .sampledVersion(1L)
        .liveVersion(2)
        .step(1)
        .meanReward(meanReward)
        .kl(0)
        .build();
  }

  @Test
  void runPlotIsAFourPanelPng() throws IOException {
    Path png = dir.resolve("plots/run.png");
    MetricsPlot.plotRun(run(20, 0.6, true), png);

    BufferedImage image = assertPng(png);
    assertEquals(1280, image.getWidth());
    assertEquals(840, image.getHeight());
  }

  @Test
  void comparePlotsOneLinePerSeries() throws IOException {
    Map<String, List<RoundMetrics>> series = new LinkedHashMap<>();
    series.put("NCA online", run(12, 0.6, false));
    series.put("InfoNCA online", run(12, 0.4, false));
    series.put("DPO offline", run(8, 0.2, true));
    Path png = dir.resolve("compare.png");
    MetricsPlot.plotCompare(series, RoundMetrics::meanReward, "mean reward", png);
    assertPng(png);

    Path eval = dir.resolve("eval.png");
    MetricsPlot.plotCompare(series, RoundMetrics::evalReward, "held-out reward", eval);
    assertPng(eval);
  }

  @Test
  void compareMeanDrawsBandsOverSeeds() throws IOException {
    Map<String, List<List<RoundMetrics>>> series = new LinkedHashMap<>();
    series.put("NCA", List.of(run(10, 0.6, false), run(10, 0.5, false), run(7, 0.7, false)));
    series.put("InfoNCA", List.of(run(10, 0.3, false), run(10, 0.35, false)));
    Path png = dir.resolve("bands.png");
    MetricsPlot.plotCompareMean(
        series, RoundMetrics::bestLogpAfter, "best log-prob after update", png);
    assertPng(png);
  }

  @Test
  void bandIsMeanAndDeviationPerRound() {
    List<RoundMetrics> a = List.of(withReward(1, 1), withReward(2, 5));
    List<RoundMetrics> b =
        List.of(withReward(1, 3), withReward(2, 5), withReward(3, 5), withReward(4, Double.NaN));
    Band band = Band.of(List.of(a, b), RoundMetrics::meanReward);
    assertArrayEquals(new double[] {1, 2, 3}, band.rounds());
    assertArrayEquals(new double[] {2, 5, 5}, band.means());
    assertArrayEquals(new double[] {1, 0, 0}, band.deviations());
  }

  @Test
  void nothingToPlotIsAnError() {
    assertThrows(
        IllegalArgumentException.class, () -> MetricsPlot.plotRun(List.of(), dir.resolve("x.png")));
  }

  private static BufferedImage assertPng(Path png) throws IOException {
    byte[] bytes = Files.readAllBytes(png);
    assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(bytes, 4));
    assertTrue(
        bytes.length > 20_000, "a real chart, not a blank image: " + bytes.length + " bytes");
    BufferedImage image = ImageIO.read(png.toFile());
    assertTrue(image.getWidth() >= 640 && image.getHeight() >= 420);
    return image;
  }
}

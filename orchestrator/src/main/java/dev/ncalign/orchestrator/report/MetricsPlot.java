package dev.ncalign.orchestrator.report;

import dev.ncalign.orchestrator.store.RoundMetrics;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.BitmapEncoder.BitmapFormat;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * PNG plots of run metrics with XChart, rendered headless (no display needed): one run's dashboard
 * of four panels, and comparisons of one measure across the runs of an experiment grid.
 */
public final class MetricsPlot {

  static {
    // Must be set before the first AWT class loads; an explicit -Djava.awt.headless wins.
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  private static final int PANEL_WIDTH = 640;
  private static final int PANEL_HEIGHT = 420;
  private static final Color BLUE = new Color(0x1f77b4);
  private static final Color ORANGE = new Color(0xff7f0e);
  private static final Color GREEN = new Color(0x2ca02c);
  private static final Color RED = new Color(0xd62728);
  private static final Color PURPLE = new Color(0x9467bd);
  private static final BasicStroke SOLID = new BasicStroke(2f);
  private static final BasicStroke DASHED =
      new BasicStroke(
          2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f, new float[] {7f, 5f}, 0f);

  private MetricsPlot() {}

  /**
   * One image of four panels per round: mean reward (and held-out reward where evaluated); mean
   * log-prob of the best and worst response before and after the update; the KL estimate; mean
   * response length with distinct-2 (the first to move under reward hacking).
   */
  public static void plotRun(List<RoundMetrics> rows, Path png) {
    if (rows.isEmpty()) {
      throw new IllegalArgumentException("no metrics rows to plot");
    }
    XYChart reward = panel("Reward", "reward");
    line(reward, "mean reward", rows, RoundMetrics::meanReward, BLUE, SOLID);
    if (rows.stream().anyMatch(r -> r.evalReward() != null)) {
      line(reward, "held-out reward", rows, RoundMetrics::evalReward, ORANGE, DASHED);
    }

    XYChart likelihood = panel("Log-prob of best / worst response, before / after update", "nats");
    line(likelihood, "best before", rows, RoundMetrics::bestLogpBefore, GREEN, SOLID);
    line(likelihood, "best after", rows, RoundMetrics::bestLogpAfter, GREEN, DASHED);
    line(likelihood, "worst before", rows, RoundMetrics::worstLogpBefore, RED, SOLID);
    line(likelihood, "worst after", rows, RoundMetrics::worstLogpAfter, RED, DASHED);

    XYChart kl = panel("KL(policy || reference)", "nats");
    line(kl, "KL estimate", rows, RoundMetrics::kl, PURPLE, SOLID);

    XYChart text = panel("Response length and distinct-2", "tokens");
    line(text, "mean length (left)", rows, RoundMetrics::meanLength, BLUE, SOLID);
    line(text, "distinct-2 (right)", rows, RoundMetrics::distinct2, ORANGE, DASHED)
        .setYAxisGroup(1);
    text.getStyler().setYAxisGroupPosition(1, Styler.YAxisPosition.Right);
    text.setYAxisGroupTitle(1, "distinct-2");

    write(png, List.of(reward, likelihood, kl, text), 2, 2);
  }

  /**
   * One line per series (e.g. per grid cell), {@code y} against the round; rows where {@code y} is
   * null or not finite are left out.
   */
  public static void plotCompare(
      Map<String, List<RoundMetrics>> series,
      Function<RoundMetrics, Double> y,
      String title,
      Path png) {
    XYChart chart = compareChart(title);
    series.forEach((name, rows) -> line(chart, name, rows, y, null, SOLID));
    write(png, List.of(chart), 1, 1);
  }

  /**
   * Like {@link #plotCompare}, with several runs per series (e.g. seeds): the line is the mean over
   * the runs that have the round, with ± one standard deviation as error bars.
   */
  public static void plotCompareMean(
      Map<String, List<List<RoundMetrics>>> series,
      Function<RoundMetrics, Double> y,
      String title,
      Path png) {
    XYChart chart = compareChart(title);
    series.forEach(
        (name, runs) -> {
          Band band = Band.of(runs, y);
          XYSeries line = chart.addSeries(name, band.rounds(), band.means(), band.deviations());
          line.setMarker(SeriesMarkers.CIRCLE);
          line.setLineStyle(SOLID);
        });
    write(png, List.of(chart), 1, 1);
  }

  private static XYChart compareChart(String title) {
    XYChart chart = panel(title, title);
    chart.getStyler().setErrorBarsColorSeriesColor(true);
    return chart;
  }

  private static XYChart panel(String title, String yTitle) {
    XYChart chart =
        new XYChartBuilder()
            .width(PANEL_WIDTH)
            .height(PANEL_HEIGHT)
            .title(title)
            .xAxisTitle("round")
            .yAxisTitle(yTitle)
            .build();
    chart
        .getStyler()
        .setLegendPosition(Styler.LegendPosition.OutsideS)
        .setLegendLayout(Styler.LegendLayout.Horizontal)
        .setChartBackgroundColor(Color.WHITE)
        .setMarkerSize(5)
        .setAntiAlias(true);
    chart.getStyler().setXAxisDecimalPattern("#");
    // XChart's default pattern writes 0.02 as ".02".
    chart.getStyler().setYAxisDecimalPattern("#,##0.###");
    return chart;
  }

  /**
   * Adds {@code y} per round, skipping missing and non-finite values; null color = XChart's
   * palette.
   */
  private static XYSeries line(
      XYChart chart,
      String name,
      List<RoundMetrics> rows,
      Function<RoundMetrics, Double> y,
      Color color,
      BasicStroke stroke) {
    List<Integer> xs = new ArrayList<>();
    List<Double> ys = new ArrayList<>();
    for (RoundMetrics row : rows) {
      Double value = y.apply(row);
      if (value != null && Double.isFinite(value)) {
        xs.add(row.round());
        ys.add(value);
      }
    }
    if (xs.isEmpty()) {
      // XChart cannot draw an empty series; an all-NaN measure still gets its legend entry.
      xs.add(rows.isEmpty() ? 0 : rows.get(0).round());
      ys.add(Double.NaN);
    }
    XYSeries series = chart.addSeries(name, xs, ys);
    series.setMarker(SeriesMarkers.CIRCLE);
    series.setLineStyle(stroke);
    if (color != null) {
      series.setLineColor(color);
      series.setMarkerColor(color);
    }
    return series;
  }

  private static void write(Path png, List<XYChart> charts, int rows, int cols) {
    try {
      Path parent = png.toAbsolutePath().getParent();
      Files.createDirectories(parent);
      try (OutputStream out = Files.newOutputStream(png)) {
        BitmapEncoder.saveBitmap(charts, rows, cols, out, BitmapFormat.PNG);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write plot " + png, e);
    }
  }
}

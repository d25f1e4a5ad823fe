package dev.ncalign.lm.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A small line chart written as SVG text: x on a log2 axis (batch sizes), y linear from 0, one
 * polyline with dots per series and a legend. Enough for benchmark plots without a chart library in
 * the {@code lm} module.
 */
public final class SvgLinePlot {

  private static final int WIDTH = 640;
  private static final int HEIGHT = 400;
  private static final int LEFT = 70;
  private static final int RIGHT = 20;
  private static final int TOP = 40;
  private static final int BOTTOM = 50;
  private static final int Y_TICKS = 5;

  private record Series(String name, String color, List<double[]> points) {}

  private final String title;
  private final String xLabel;
  private final String yLabel;
  private final List<Series> series = new ArrayList<>();

  public SvgLinePlot(String title, String xLabel, String yLabel) {
    this.title = title;
    this.xLabel = xLabel;
    this.yLabel = yLabel;
  }

  /** Adds a series of (x &gt; 0, y ≥ 0) points. */
  public SvgLinePlot series(String name, String color, List<double[]> points) {
    series.add(new Series(name, color, points));
    return this;
  }

  /** The chart as an SVG document. */
  public String render() {
    double minX = Double.MAX_VALUE;
    double maxX = Double.MIN_VALUE;
    double maxY = 0;
    for (Series s : series) {
      for (double[] p : s.points()) {
        minX = Math.min(minX, p[0]);
        maxX = Math.max(maxX, p[0]);
        maxY = Math.max(maxY, p[1]);
      }
    }
    double logMin = log2(minX);
    double logSpan = Math.max(1e-9, log2(maxX) - logMin);
    double yTop = niceCeiling(maxY);
    int plotWidth = WIDTH - LEFT - RIGHT;
    int plotHeight = HEIGHT - TOP - BOTTOM;
    StringBuilder svg = new StringBuilder();
    svg.append(
        String.format(
            Locale.ROOT,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
                + " font-family=\"sans-serif\" font-size=\"12\">%n"
                + "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>%n"
                + "<text x=\"%d\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">%s</text>%n",
            WIDTH,
            HEIGHT,
            WIDTH / 2,
            escape(title)));
    for (int i = 0; i <= Y_TICKS; i++) {
      double value = yTop * i / Y_TICKS;
      double y = TOP + plotHeight - plotHeight * value / yTop;
      svg.append(
          String.format(
              Locale.ROOT,
              "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                  + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n",
              LEFT,
              y,
              WIDTH - RIGHT,
              y,
              LEFT - 6,
              y + 4,
              format(value)));
    }
    for (double[] p : series.get(0).points()) {
      double x = LEFT + plotWidth * (log2(p[0]) - logMin) / logSpan;
      svg.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>%n",
              x,
              TOP + plotHeight + 18,
              format(p[0])));
    }
    svg.append(
        String.format(
            Locale.ROOT,
            "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#444\"/>%n"
                + "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>%n"
                + "<text transform=\"translate(16 %d) rotate(-90)\" text-anchor=\"middle\">%s"
                + "</text>%n",
            LEFT,
            TOP,
            plotWidth,
            plotHeight,
            LEFT + plotWidth / 2,
            HEIGHT - 10,
            escape(xLabel),
            TOP + plotHeight / 2,
            escape(yLabel)));
    for (int i = 0; i < series.size(); i++) {
      Series s = series.get(i);
      StringBuilder points = new StringBuilder();
      for (double[] p : s.points()) {
        double x = LEFT + plotWidth * (log2(p[0]) - logMin) / logSpan;
        double y = TOP + plotHeight - plotHeight * p[1] / yTop;
        points.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
        svg.append(
            String.format(
                Locale.ROOT,
                "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>%n",
                x,
                y,
                s.color()));
      }
      svg.append(
          String.format(
              Locale.ROOT,
              "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>%n"
                  + "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"4\" fill=\"%s\"/>"
                  + "<text x=\"%d\" y=\"%d\">%s</text>%n",
              points.toString().trim(),
              s.color(),
              LEFT + 12,
              TOP + 12 + 18 * i,
              s.color(),
              LEFT + 32,
              TOP + 18 + 18 * i,
              escape(s.name())));
    }
    return svg.append("</svg>\n").toString();
  }

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }

  /** 1, 2 or 5 times a power of ten, at least {@code value}. */
  static double niceCeiling(double value) {
    if (value <= 0) {
      return 1;
    }
    double magnitude = Math.pow(10, Math.floor(Math.log10(value)));
    for (double step : new double[] {1, 2, 5, 10}) {
      if (step * magnitude >= value) {
        return step * magnitude;
      }
    }
    return 10 * magnitude;
  }

  private static String format(double value) {
    return value == Math.rint(value)
        ? String.format(Locale.ROOT, "%,d", (long) value)
        : String.format(Locale.ROOT, "%.1f", value);
  }

  private static String escape(String text) {
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}

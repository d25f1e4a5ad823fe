package dev.ncalign.cli;

import dev.ncalign.orchestrator.loop.RoundListener;
import dev.ncalign.orchestrator.store.RoundMetrics;
import dev.ncalign.orchestrator.train.RewardBatch;
import java.io.PrintStream;

/** One line per round on the terminal, led by a progress bar over the run's rounds. */
final class RoundPrinter implements RoundListener {
  private static final int BAR = 20;

  private final PrintStream out;
  private final int rounds;
  private final long startNanos = System.nanoTime();

  RoundPrinter(PrintStream out, int rounds) {
    this.out = out;
    this.rounds = rounds;
  }

  /** The column names, printed once before the first round. */
  void header() {
    out.printf(
        "%-" + (BAR + 2) + "s %7s %4s %7s %16s %16s %6s %5s %5s %6s%n",
        "progress",
        "round",
        "from",
        "reward",
        "best logp b->a",
        "worst logp b->a",
        "kl",
        "len",
        "dist2",
        "sec");
  }

  @Override
  public void roundCompleted(RoundMetrics m, RewardBatch batch) {
    int filled = (int) Math.round(BAR * m.round() / (double) rounds);
    String bar = "[" + "#".repeat(filled) + "-".repeat(BAR - filled) + "]";
    double seconds = m.phaseSeconds();
    out.printf(
        "%s %3d/%-3d %4s %7.3f %7.2f->%-7.2f %7.2f->%-7.2f %6s %5.1f %5.2f %6.1f%s%n",
        bar,
        m.round(),
        rounds,
        // The version the round's responses were sampled from; offline they came from the dataset.
        m.sampledVersion() == null ? "data" : String.valueOf(m.sampledVersion()),
        m.meanReward(),
        m.bestLogpBefore(),
        m.bestLogpAfter(),
        m.worstLogpBefore(),
        m.worstLogpAfter(),
        // KL is measured when the round evaluates (see RoundMetrics#kl).
        Double.isFinite(m.kl()) ? String.format("%.2f", m.kl()) : "-",
        m.meanLength(),
        m.distinct2(),
        seconds,
        m.evalReward() == null ? "" : String.format("  eval reward %.3f", m.evalReward()));
    out.flush();
  }

  /** Seconds since this printer was made. */
  double elapsedSeconds() {
    return (System.nanoTime() - startNanos) / 1e9;
  }
}

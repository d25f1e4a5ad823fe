package dev.ncalign.orchestrator.experiment;

import dev.ncalign.orchestrator.config.Mode;
import dev.ncalign.orchestrator.loss.LossType;
import java.util.Locale;

/** One run of an experiment grid. */
public record GridCell(LossType loss, Mode mode, long seed) {

  /** Directory name, e.g. {@code nca-online-s1}. */
  public String name() {
    return (loss + "-" + mode + "-s" + seed).toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /**
   * The series it belongs to in plots (seeds of one series are averaged), e.g. {@code NCA online}.
   */
  public String series() {
    return loss + " " + mode;
  }
}

package dev.ncalign.orchestrator.config;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** Learning-rate shape after the linear warmup. Written in lower case in YAML. */
public enum LrSchedule {
  /** Half a cosine from the peak rate down to 0 at the last optimizer step of the run. */
  COSINE,
  /** The peak rate until the end. */
  CONSTANT;

  @JsonValue
  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}

package dev.ncalign.orchestrator.config;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** How a run gets its training data. Written in lower case in YAML and JSON. */
public enum Mode {
  /** Sample from the live policy every round and score the samples with the reward server. */
  ONLINE,
  /** Train on a fixed dataset of prompts with K scored responses each. */
  OFFLINE;

  @JsonValue
  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}

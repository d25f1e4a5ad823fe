package dev.ncalign.lm.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The machine's load, recorded beside every benchmark result: a figure measured while other jobs
 * held the cores says little about the code.
 */
public final class LoadAverage {

  private LoadAverage() {}

  /**
   * The 1, 5 and 15 minute load averages ({@code /proc/loadavg}), as uptime prints them; "" off
   * Linux.
   */
  public static String now() {
    try {
      String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return parts[0] + " " + parts[1] + " " + parts[2];
    } catch (IOException e) {
      return "";
    }
  }
}

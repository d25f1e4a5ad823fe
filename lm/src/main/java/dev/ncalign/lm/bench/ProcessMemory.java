package dev.ncalign.lm.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** This process's resident memory (from {@code /proc/self/status}, Linux, in MiB) and CPU time. */
final class ProcessMemory {

  private ProcessMemory() {}

  /** Resident set size now ({@code VmRSS}). */
  static double residentMib() {
    return field("VmRSS:");
  }

  /** Peak resident set size since the process started ({@code VmHWM}). */
  static double peakResidentMib() {
    return field("VmHWM:");
  }

  /**
   * Resets the peak ({@code VmHWM}) to the current RSS by writing 5 to {@code
   * /proc/self/clear_refs} (Linux ≥ 4.0), so that a later peak covers only what follows.
   *
   * @return false when the kernel does not allow it (the peak then covers the whole process)
   */
  static boolean resetPeak() {
    try {
      Files.writeString(Path.of("/proc/self/clear_refs"), "5");
      return true;
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  /** CPU time this process has used so far (all threads), in seconds. */
  static double cpuSeconds() {
    return ProcessHandle.current()
            .info()
            .totalCpuDuration()
            .orElseThrow(() -> new IllegalStateException("process CPU time unavailable"))
            .toNanos()
        / 1e9;
  }

  private static double field(String name) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(name)) {
          // "VmHWM:	 1234 kB"
          String[] parts = line.substring(name.length()).trim().split("\\s+");
          return Long.parseLong(parts[0]) / 1024.0;
        }
      }
      throw new IllegalStateException(name + " not in /proc/self/status");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read /proc/self/status (Linux only)", e);
    }
  }
}

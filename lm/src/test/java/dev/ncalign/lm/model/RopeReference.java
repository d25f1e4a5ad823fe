package dev.ncalign.lm.model;

/**
 * Rotary inverse frequencies written from the published formulas in doubles, independent of {@link
 * RopeScaling}: RoPE's {@code 1 / theta^(2i/d)}; linear scaling divides by the factor; Llama 3.1's
 * scaling keeps wavelengths shorter than {@code original / high_freq_factor}, divides those longer
 * than {@code original / low_freq_factor} by the factor, and in between blends {@code (1 - s) inv /
 * factor + s inv} with {@code s = (original / wavelength - low) / (high - low)}.
 */
final class RopeReference {

  private RopeReference() {}

  static double[] invFreq(ModelConfig config) {
    int d = config.headDim();
    RopeScaling scaling = config.ropeScaling();
    double[] inv = new double[d / 2];
    for (int i = 0; i < inv.length; i++) {
      double base = 1.0 / Math.pow(config.ropeTheta(), 2.0 * i / d);
      inv[i] =
          switch (scaling.type()) {
            case "linear" -> base / scaling.factor();
            case "llama3" -> llama3(base, scaling);
            default -> base;
          };
    }
    return inv;
  }

  private static double llama3(double inv, RopeScaling s) {
    double wavelength = 2 * Math.PI / inv;
    double original = s.originalMaxPositionEmbeddings();
    if (wavelength < original / s.highFreqFactor()) {
      return inv;
    }
    if (wavelength > original / s.lowFreqFactor()) {
      return inv / s.factor();
    }
    double smooth =
        (original / wavelength - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
    return (1 - smooth) * inv / s.factor() + smooth * inv;
  }

  /**
   * Which of the three Llama 3.1 regimes frequency {@code i} falls in: -1 kept, 0 blended, 1
   * divided.
   */
  static int llama3Regime(ModelConfig config, int i) {
    RopeScaling s = config.ropeScaling();
    double wavelength = 2 * Math.PI * Math.pow(config.ropeTheta(), 2.0 * i / config.headDim());
    double original = s.originalMaxPositionEmbeddings();
    if (wavelength < original / s.highFreqFactor()) {
      return -1;
    }
    return wavelength > original / s.lowFreqFactor() ? 1 : 0;
  }
}

package dev.ncalign.lm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Inverse frequencies of the supported rope_scaling types against {@link RopeReference}. */
class RopeScalingTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void llama3ScalingMatchesTheFormulaInAllThreeRegimes() throws Exception {
    // Llama-3.2-1B's real rotary settings: head_dim 64, theta 500000.
    ModelConfig config = config(64, 500000.0, ModelFixtures.llama32Config(16).get("rope_scaling"));
    int[] regimes =
        IntStream.range(0, 32).map(i -> RopeReference.llama3Regime(config, i)).toArray();
    assertTrue(IntStream.of(regimes).anyMatch(r -> r == -1), "some frequencies kept");
    assertTrue(IntStream.of(regimes).anyMatch(r -> r == 0), "some blended");
    assertTrue(IntStream.of(regimes).anyMatch(r -> r == 1), "some divided by the factor");
    assertInvFreqMatchReference(config);
  }

  @Test
  void linearScalingDividesEveryFrequency() throws Exception {
    ModelConfig config =
        config(32, 10000.0, JSON.readTree("{\"type\": \"linear\", \"factor\": 4.0}"));
    assertEquals("linear", config.ropeScaling().type());
    assertInvFreqMatchReference(config);
  }

  @Test
  void noScalingIsTheDefaultRope() throws Exception {
    ModelConfig config = config(16, 1000000.0, JSON.readTree("null"));
    assertSame(RopeScaling.NONE, config.ropeScaling());
    assertInvFreqMatchReference(config);
    assertSame(
        RopeScaling.NONE, RopeScaling.fromJson(JSON.readTree("{\"rope_type\": \"default\"}")));
  }

  @Test
  void otherTypesAreRefusedByName() throws Exception {
    for (String type : new String[] {"yarn", "dynamic", "longrope", "ntk"}) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  RopeScaling.fromJson(
                      JSON.readTree("{\"rope_type\": \"" + type + "\", \"factor\": 2.0}")));
      assertEquals(
          "rope_scaling type '" + type + "' is not supported (default, linear, llama3 only)",
          e.getMessage());
    }
  }

  @Test
  void toJsonRoundTrips() throws Exception {
    ModelConfig config = config(64, 500000.0, ModelFixtures.llama32Config(16).get("rope_scaling"));
    assertEquals(config.ropeScaling(), RopeScaling.fromJson(config.ropeScaling().toJson()));
  }

  private static void assertInvFreqMatchReference(ModelConfig config) {
    double[] expected = RopeReference.invFreq(config);
    float[] actual =
        new RotaryEmbedding(config.headDim(), config.ropeTheta(), config.ropeScaling()).invFreq();
    assertEquals(expected.length, actual.length);
    for (int i = 0; i < expected.length; i++) {
      // float32 steps against doubles: a few ulps.
      assertEquals(
          expected[i], actual[i], 4 * Math.ulp((float) expected[i]), "inv_freq[" + i + "]");
    }
  }

  private static ModelConfig config(
      int headDim, double theta, com.fasterxml.jackson.databind.JsonNode scaling) throws Exception {
    var json = ModelFixtures.llama32Config(16);
    json.put("head_dim", headDim);
    json.put("rope_theta", theta);
    json.set("rope_scaling", scaling);
    return ModelConfig.fromJson(json);
  }
}

package dev.ncalign.orchestrator.web;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;

/**
 * JSON for the dashboard API: snake_case keys like metrics.jsonl, and non-finite numbers as null.
 * Jackson would otherwise write NaN as a bare token or a string, and a NaN reward or loss is
 * expected here (a round with only dropped responses); a browser's JSON.parse rejects the token and
 * charts mis-plot strings.
 */
final class DashboardJson {

  private static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
          .addModule(
              new SimpleModule()
                  .addSerializer(Double.class, new FiniteOrNull())
                  .addSerializer(double.class, new FiniteOrNull()))
          .build();

  private DashboardJson() {}

  static String write(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(
          "cannot write " + value.getClass().getSimpleName() + " as JSON", e);
    }
  }

  private static final class FiniteOrNull extends StdSerializer<Double> {
    FiniteOrNull() {
      super(Double.class);
    }

    @Override
    public void serialize(Double value, JsonGenerator gen, SerializerProvider provider)
        throws IOException {
      if (Double.isFinite(value)) {
        gen.writeNumber(value);
      } else {
        gen.writeNull();
      }
    }
  }
}

package dev.ncalign.orchestrator.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Reads a {@link RunConfig} from YAML: the file is laid over {@link RunConfig#defaults()}, then the
 * {@code --set path=value} overrides over that, then the result is bound strictly (unknown keys and
 * wrong types fail) and range-checked. Every failure is one {@link ConfigException} line naming the
 * field.
 */
public final class ConfigLoader {

  private static final YAMLMapper YAML = newMapper();

  private ConfigLoader() {}

  /**
   * Loads and checks values (not files: see {@link ConfigValidator#checkFiles}, which the caller
   * runs once assets it builds itself exist).
   *
   * @param overrides {@code dotted.path=value} strings; the value is read as a YAML scalar or flow
   *     list
   */
  public static RunConfig load(Path file, List<String> overrides) {
    JsonNode fileTree = readFile(file);
    return bind(fileTree, overrides);
  }

  /** Like {@link #load} on YAML text instead of a file (tests, configs embedded in code). */
  public static RunConfig parse(String yaml, List<String> overrides) {
    return bind(readText(yaml, "the configuration"), overrides);
  }

  /** The config as YAML with every field written out, readable back by {@link #parse}. */
  public static String toYaml(RunConfig config) {
    try {
      return YAML.writeValueAsString(config);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the config as YAML", e);
    }
  }

  private static RunConfig bind(JsonNode fileTree, List<String> overrides) {
    ObjectNode tree = YAML.valueToTree(RunConfig.defaults());
    TreeMerge.merge(tree, fileTree);
    for (String override : overrides) {
      TreeMerge.set(tree, override, ConfigLoader::readValue);
    }
    fillGridDefaults(tree);
    RunConfig config;
    try {
      config = YAML.treeToValue(tree, RunConfig.class);
    } catch (JsonProcessingException e) {
      throw translate(e);
    }
    ConfigValidator.checkValues(config);
    return config;
  }

  /**
   * A grid that leaves out an axis runs only the single run's value on it: loss.type, mode,
   * run.seed.
   */
  private static void fillGridDefaults(ObjectNode tree) {
    if (tree.get("grid") instanceof ObjectNode grid) {
      grid.putIfAbsent("losses", YAML.createArrayNode().add(tree.path("loss").path("type")));
      grid.putIfAbsent("modes", YAML.createArrayNode().add(tree.path("mode")));
      grid.putIfAbsent("seeds", YAML.createArrayNode().add(tree.path("run").path("seed")));
    }
  }

  private static JsonNode readFile(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new ConfigException("no such file " + file.toAbsolutePath());
    } catch (IOException e) {
      throw new ConfigException("cannot read " + file.toAbsolutePath() + ": " + e.getMessage(), e);
    }
    return readText(text, file.toString());
  }

  private static JsonNode readText(String yaml, String source) {
    JsonNode tree;
    try {
      tree = YAML.readTree(yaml);
    } catch (JsonProcessingException e) {
      String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr();
      throw new ConfigException(
          source
              + ": invalid YAML"
              + where
              + ": "
              + e.getOriginalMessage().lines().findFirst().orElse(""),
          e);
    }
    if (tree == null || tree.isMissingNode() || tree.isNull()) {
      return YAML.createObjectNode();
    }
    if (!tree.isObject()) {
      throw new ConfigException(source + ": the top level must be a mapping of sections");
    }
    return tree;
  }

  /**
   * An override value: YAML, so numbers, booleans, null and {@code [a, b]} lists keep their types.
   */
  private static JsonNode readValue(String text) {
    if (text.isBlank()) {
      return NullNode.getInstance();
    }
    try {
      JsonNode node = YAML.readTree(text);
      return node == null ? NullNode.getInstance() : node;
    } catch (JsonProcessingException e) {
      throw new ConfigException("invalid override value " + text, e);
    }
  }

  private static ConfigException translate(JsonProcessingException e) {
    if (!(e instanceof JsonMappingException mapping)) {
      return new ConfigException(e.getOriginalMessage(), e);
    }
    String field = fieldPath(mapping.getPath());
    if (e instanceof UnrecognizedPropertyException unknown) {
      return new ConfigException(
          "unknown key " + field + " (known keys: " + known(unknown.getKnownPropertyIds()) + ")",
          e);
    }
    if (e instanceof InvalidFormatException format) {
      return new ConfigException(
          field
              + ": expected "
              + describe(format.getTargetType())
              + " (got "
              + format.getValue()
              + ")",
          e);
    }
    if (e instanceof MismatchedInputException mismatch && mismatch.getTargetType() != null) {
      return new ConfigException(field + ": expected " + describe(mismatch.getTargetType()), e);
    }
    return new ConfigException(field + ": " + e.getOriginalMessage(), e);
  }

  static String fieldPath(List<JsonMappingException.Reference> path) {
    StringBuilder out = new StringBuilder();
    for (JsonMappingException.Reference ref : path) {
      if (ref.getFieldName() != null) {
        out.append(out.length() == 0 ? "" : ".").append(ref.getFieldName());
      } else if (ref.getIndex() >= 0) {
        out.append('[').append(ref.getIndex()).append(']');
      }
    }
    return out.length() == 0 ? "(top level)" : out.toString();
  }

  private static String known(Collection<Object> ids) {
    return ids.stream()
        .map(String::valueOf)
        .collect(Collectors.toCollection(TreeSet::new))
        .toString()
        .replaceAll("[\\[\\]]", "");
  }

  private static String describe(Class<?> type) {
    if (type.isEnum()) {
      return "one of "
          + Arrays.stream(type.getEnumConstants())
              .map(String::valueOf)
              .collect(Collectors.joining(", "));
    }
    if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
      return "an integer";
    }
    if (type == double.class
        || type == Double.class
        || type == float.class
        || type == Float.class) {
      return "a number";
    }
    if (type == boolean.class || type == Boolean.class) {
      return "true or false";
    }
    if (List.class.isAssignableFrom(type) || Collection.class.isAssignableFrom(type)) {
      return "a list";
    }
    if (type.isRecord() || Map.class.isAssignableFrom(type)) {
      return "a mapping";
    }
    if (type == Path.class) {
      return "a path";
    }
    return "a " + type.getSimpleName().toLowerCase(java.util.Locale.ROOT);
  }

  private static YAMLMapper newMapper() {
    YAMLFactory factory =
        YAMLFactory.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .build();
    factory.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    return YAMLMapper.builder(factory)
        .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
        .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
        // "1.5" for an int field is a mistake worth reporting, not something to round silently.
        .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
        .addModule(new SimpleModule().addSerializer(Path.class, ToStringSerializer.instance))
        .build();
  }
}

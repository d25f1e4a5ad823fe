package dev.ncalign.orchestrator.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;
import java.util.Map;
import java.util.function.Function;

/**
 * Lays one YAML tree over another, so a config file only has to name what differs from the
 * defaults.
 */
final class TreeMerge {

  private TreeMerge() {}

  /** Copies {@code top} into {@code base}: mappings merge key by key, anything else replaces. */
  static void merge(ObjectNode base, JsonNode top) {
    for (Map.Entry<String, JsonNode> field : top.properties()) {
      JsonNode current = base.get(field.getKey());
      if (current instanceof ObjectNode object && field.getValue().isObject()) {
        merge(object, field.getValue());
      } else {
        base.set(field.getKey(), field.getValue());
      }
    }
  }

  /**
   * Applies one {@code dotted.path=value} override. Missing intermediate mappings are created so an
   * unknown path reaches the strict binder and is reported there like an unknown key in the file.
   */
  static void set(ObjectNode root, String override, Function<String, JsonNode> parseValue) {
    int eq = override.indexOf('=');
    if (eq <= 0) {
      throw new ConfigException(
          "override " + override + ": expected path=value, e.g. loss.beta=0.2");
    }
    String[] keys = override.substring(0, eq).trim().split("\\.");
    ObjectNode node = root;
    for (int i = 0; i < keys.length - 1; i++) {
      JsonNode child = node.get(keys[i]);
      if (child == null || child.isNull()) {
        child = node.putObject(keys[i]);
      } else if (!child.isObject()) {
        throw new ConfigException(
            String.join(".", Arrays.copyOf(keys, i + 1))
                + " is not a section (override "
                + override
                + ")");
      }
      node = (ObjectNode) child;
    }
    node.set(keys[keys.length - 1], parseValue.apply(override.substring(eq + 1).trim()));
  }
}

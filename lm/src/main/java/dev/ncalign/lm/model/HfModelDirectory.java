package dev.ncalign.lm.model;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The files of a Hugging Face model directory: {@code config.json} (plus the eos ids of {@code
 * generation_config.json}), {@code tokenizer.json}, and the weights as one {@code
 * model.safetensors} or as shards listed by {@code model.safetensors.index.json}. Every problem is
 * a {@link ModelDirectoryException} naming the file and the field or tensor. {@link #write} makes a
 * directory transformers' {@code from_pretrained} loads.
 */
public final class HfModelDirectory {

  public static final String CONFIG = "config.json";
  public static final String GENERATION_CONFIG = "generation_config.json";
  public static final String TOKENIZER = "tokenizer.json";
  public static final String WEIGHTS = "model.safetensors";
  public static final String WEIGHTS_INDEX = "model.safetensors.index.json";

  /** Tokenizer and generation files copied along by {@link #write}. */
  private static final List<String> SIDE_FILES =
      List.of(TOKENIZER, "tokenizer_config.json", "special_tokens_map.json", GENERATION_CONFIG);

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path dir;
  private final ObjectNode rawConfig;
  private final ModelConfig config;

  private HfModelDirectory(Path dir, ObjectNode rawConfig, ModelConfig config) {
    this.dir = dir;
    this.rawConfig = rawConfig;
    this.config = config;
  }

  /**
   * Reads {@code config.json} and {@code generation_config.json}; eos ids are the union of both
   * files' {@code eos_token_id} (an int or a list), config first.
   */
  public static HfModelDirectory open(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new ModelDirectoryException(dir, "not a directory");
    }
    ObjectNode raw = readObject(dir.resolve(CONFIG));
    ObjectNode effective = raw.deepCopy();
    Path generation = dir.resolve(GENERATION_CONFIG);
    if (Files.exists(generation)) {
      Set<Integer> eos = new LinkedHashSet<>(ModelConfig.intList(raw.path("eos_token_id")));
      eos.addAll(ModelConfig.intList(readObject(generation).path("eos_token_id")));
      ArrayNode merged = effective.putArray("eos_token_id");
      eos.forEach(merged::add);
    }
    try {
      return new HfModelDirectory(dir, raw, ModelConfig.fromJson(effective));
    } catch (IllegalArgumentException e) {
      throw new ModelDirectoryException(dir.resolve(CONFIG), e.getMessage());
    }
  }

  /** The directory. */
  public Path path() {
    return dir;
  }

  /** The architecture, with the merged eos ids. */
  public ModelConfig config() {
    return config;
  }

  /** {@code config.json} as written, for saving it back with the fields this code ignores. */
  public ObjectNode rawConfig() {
    return rawConfig.deepCopy();
  }

  /** Loads {@code tokenizer.json} with the config's eos and pad ids. */
  public TextCodec codec() {
    Path file = dir.resolve(TOKENIZER);
    if (!Files.isRegularFile(file)) {
      throw new ModelDirectoryException(file, "missing file");
    }
    try {
      return TextCodec.load(file, config);
    } catch (RuntimeException e) {
      throw new ModelDirectoryException(file, "cannot load the tokenizer: " + e.getMessage());
    }
  }

  /**
   * The dtype the weights are stored in: {@code torch_dtype} of config.json when it names one of
   * F32/BF16/F16, else the dtype of the stored tensors.
   */
  public WeightDType storedDType() {
    JsonNode torchDtype = rawConfig.get("torch_dtype");
    if (torchDtype != null && torchDtype.isTextual()) {
      try {
        return WeightDType.parse(torchDtype.asText());
      } catch (IllegalArgumentException e) {
        // An unusual torch_dtype: the tensors themselves tell.
      }
    }
    WeightDType[] found = {WeightDType.F32};
    readWeights(
        source ->
            source.header().values().stream()
                .findFirst()
                .ifPresent(info -> found[0] = info.weightDType()));
    return found[0];
  }

  /**
   * Opens the weights (one file, or every shard of the index) for {@code reader}, then closes them.
   * An {@link IllegalArgumentException} from {@code reader} comes back as a {@link
   * ModelDirectoryException} naming the weights file.
   */
  public void readWeights(Consumer<Safetensors.Source> reader) {
    Path single = dir.resolve(WEIGHTS);
    Path index = dir.resolve(WEIGHTS_INDEX);
    boolean sharded = !Files.exists(single) && Files.exists(index);
    if (!sharded && !Files.exists(single)) {
      throw new ModelDirectoryException(single, "missing file (and no " + WEIGHTS_INDEX + ")");
    }
    List<SafetensorsFile> files = new ArrayList<>();
    Path current = sharded ? index : single;
    try {
      if (sharded) {
        Map<String, String> weightMap = weightMap(index);
        Map<String, List<String>> byShard = new LinkedHashMap<>();
        weightMap.forEach(
            (tensor, shard) -> byShard.computeIfAbsent(shard, s -> new ArrayList<>()).add(tensor));
        for (Map.Entry<String, List<String>> shard : byShard.entrySet()) {
          current = dir.resolve(shard.getKey());
          if (!Files.isRegularFile(current)) {
            throw new ModelDirectoryException(
                index, "weight_map names shard '" + shard.getKey() + "', which is absent");
          }
          SafetensorsFile file = SafetensorsFile.open(current);
          files.add(file);
          for (String tensor : shard.getValue()) {
            if (!file.header().containsKey(tensor)) {
              throw new ModelDirectoryException(
                  current, "tensor '" + tensor + "' listed in " + WEIGHTS_INDEX + " is absent");
            }
          }
        }
        current = index;
      } else {
        files.add(SafetensorsFile.open(single));
      }
      reader.accept(SafetensorsFile.union(files));
    } catch (ModelDirectoryException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      throw new ModelDirectoryException(current, e.getMessage());
    } finally {
      files.forEach(SafetensorsFile::close);
    }
  }

  /**
   * Writes a model directory: {@code rawConfig} with {@code torch_dtype} set to {@code dtype},
   * {@code model.safetensors} with {@code weights} streamed in {@code dtype}, and the tokenizer and
   * generation files of {@code sideFilesFrom} (skipped when it is the target itself).
   */
  public static void write(
      Path target,
      ObjectNode rawConfig,
      Map<String, NDArray> weights,
      WeightDType dtype,
      Path sideFilesFrom) {
    try {
      Files.createDirectories(target);
      ObjectNode out = rawConfig.deepCopy();
      out.put("torch_dtype", dtype.torchName());
      Files.writeString(
          target.resolve(CONFIG), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(out));
      // One file, whatever its size: a stale index would make transformers look for shards.
      Files.deleteIfExists(target.resolve(WEIGHTS_INDEX));
      try (OutputStream stream =
          new BufferedOutputStream(Files.newOutputStream(target.resolve(WEIGHTS)), 1 << 20)) {
        SafetensorsWriter.write(stream, weights, dtype);
      }
      if (sideFilesFrom != null
          && !(Files.exists(sideFilesFrom) && Files.isSameFile(sideFilesFrom, target))) {
        for (String name : SIDE_FILES) {
          if (Files.exists(sideFilesFrom.resolve(name))) {
            Files.copy(
                sideFilesFrom.resolve(name),
                target.resolve(name),
                StandardCopyOption.REPLACE_EXISTING);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot save to " + target, e);
    }
  }

  private static Map<String, String> weightMap(Path index) {
    JsonNode map = readObject(index).get("weight_map");
    if (map == null || !map.isObject() || map.isEmpty()) {
      throw new ModelDirectoryException(index, "missing object field 'weight_map'");
    }
    Map<String, String> weightMap = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> fields = map.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> field = fields.next();
      String shard = field.getValue().asText("");
      // A shard is a file of this directory, never a path out of it.
      if (shard.isEmpty() || shard.contains("/") || shard.contains("\\") || shard.equals("..")) {
        throw new ModelDirectoryException(
            index, "weight_map['" + field.getKey() + "'] is not a file name: '" + shard + "'");
      }
      weightMap.put(field.getKey(), shard);
    }
    return weightMap;
  }

  /** A JSON object file; a missing or malformed one is a {@link ModelDirectoryException}. */
  static ObjectNode readObject(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new ModelDirectoryException(file, "missing file");
    }
    JsonNode node;
    try {
      node = JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new ModelDirectoryException(
          file, "not valid JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
    }
    if (node == null || !node.isObject()) {
      throw new ModelDirectoryException(file, "not a JSON object");
    }
    return (ObjectNode) node;
  }
}

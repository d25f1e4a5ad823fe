package dev.ncalign.reward.model;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes toy "reward models" with chosen signatures: logits = [s, -s] where s is the sum of the
 * token ids minus an offset (divided by zero on request, to produce non-finite rewards), plus a
 * word-level tokenizer over {@link #WORDS}. With the default pair encoding, ("a", "b c") is {@code
 * <bos>=2 a=4 <eos>=3 b=5 c=6 <eos>=3}: s = 23 − offset.
 */
public final class TinyOnnxModels {

  /** Vocabulary: ids 4..7 after the four special tokens. */
  public static final List<String> WORDS = List.of("a", "b", "c", "d");

  private TinyOnnxModels() {}

  /**
   * Copies a word-level tokenizer.json test resource (written by the demo kit's tokenizer writer
   * for the words in its name; special tokens {@code <pad> <unk> <bos> <eos>} at ids 0..3) to
   * {@code target}.
   */
  public static void copyTokenizer(String resource, Path target) throws IOException {
    try (var in = TinyOnnxModels.class.getResourceAsStream("/tokenizers/" + resource)) {
      if (in == null) {
        throw new IOException("no test resource tokenizers/" + resource);
      }
      Files.copy(in, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /**
   * A model a server can run: inputs {@code input_ids} and {@code attention_mask}, output {@code
   * logits}, reward (label 0) = sum of the token ids − {@code offset}.
   */
  public static Path servable(Path dir, float offset) throws IOException {
    Map<String, DataType> inputs = new LinkedHashMap<>();
    inputs.put("input_ids", DataType.INT64);
    inputs.put("attention_mask", DataType.INT64);
    return write(dir, inputs, "logits", false, offset);
  }

  /**
   * A decoder-style reward model, as HF's {@code *ForSequenceClassification} decoders are: it finds
   * the padding by {@code config.json}'s {@code pad_token_id} ({@code padTokenId}), not by the
   * attention mask. Reward (label 0) = the number of tokens that are not {@code padTokenId}.
   */
  public static Path decoderStyle(Path dir, long padTokenId) throws IOException {
    Files.createDirectories(dir);
    copyTokenizer("words-a-to-d.json", dir.resolve("tokenizer.json"));
    Files.writeString(
        dir.resolve("config.json"),
        "{\"architectures\": [\"LlamaForSequenceClassification\"], \"pad_token_id\": "
            + padTokenId
            + "}");
    GraphProto.Builder graph = GraphProto.newBuilder().setName("decoder-style");
    graph.addInput(info("input_ids", DataType.INT64, 2));
    graph.addInput(info("attention_mask", DataType.INT64, 2));
    graph.addOutput(info("logits", DataType.FLOAT, 2));
    graph.addInitializer(
        TensorProto.newBuilder()
            .setName("pad")
            .setDataType(DataType.INT64_VALUE)
            .addInt64Data(padTokenId));
    graph.addInitializer(
        TensorProto.newBuilder()
            .setName("axis_1")
            .setDataType(DataType.INT64_VALUE)
            .addDims(1)
            .addInt64Data(1));
    graph.addNode(node("Equal", List.of("input_ids", "pad"), "is_pad"));
    graph.addNode(node("Not", List.of("is_pad"), "is_token"));
    graph.addNode(
        node(
            "Cast",
            List.of("is_token"),
            "token_float",
            AttributeProto.newBuilder()
                .setName("to")
                .setType(AttributeProto.AttributeType.INT)
                .setI(DataType.FLOAT_VALUE)
                .build()));
    graph.addNode(node("ReduceSum", List.of("token_float", "axis_1"), "logits"));
    writeModel(graph, dir);
    return dir;
  }

  /**
   * Writes model.onnx and tokenizer.json into {@code dir}; {@code inputs} maps names to element
   * types.
   */
  public static Path write(
      Path dir, Map<String, DataType> inputs, String output, boolean divideByZero)
      throws IOException {
    return write(dir, inputs, output, divideByZero, 0f);
  }

  private static Path write(
      Path dir, Map<String, DataType> inputs, String output, boolean divideByZero, float offset)
      throws IOException {
    Files.createDirectories(dir);
    copyTokenizer("words-a-to-d.json", dir.resolve("tokenizer.json"));
    GraphProto.Builder graph = GraphProto.newBuilder().setName("tiny");
    inputs.forEach((name, type) -> graph.addInput(info(name, type, 2)));
    graph.addOutput(info(output, DataType.FLOAT, 2));
    graph.addInitializer(
        TensorProto.newBuilder()
            .setName("axis_1")
            .setDataType(DataType.INT64_VALUE)
            .addDims(1)
            .addInt64Data(1));
    graph.addInitializer(
        TensorProto.newBuilder()
            .setName("divisor")
            .setDataType(DataType.FLOAT_VALUE)
            .addFloatData(divideByZero ? 0f : 1f));
    graph.addInitializer(
        TensorProto.newBuilder()
            .setName("offset")
            .setDataType(DataType.FLOAT_VALUE)
            .addFloatData(offset));
    graph.addNode(
        node(
            "Cast",
            List.of("input_ids"),
            "ids_float",
            AttributeProto.newBuilder()
                .setName("to")
                .setType(AttributeProto.AttributeType.INT)
                .setI(DataType.FLOAT_VALUE)
                .build()));
    graph.addNode(node("ReduceSum", List.of("ids_float", "axis_1"), "sum"));
    graph.addNode(node("Sub", List.of("sum", "offset"), "shifted"));
    graph.addNode(node("Div", List.of("shifted", "divisor"), "score"));
    graph.addNode(node("Neg", List.of("score"), "negated"));
    graph.addNode(
        node(
            "Concat",
            List.of("score", "negated"),
            output,
            AttributeProto.newBuilder()
                .setName("axis")
                .setType(AttributeProto.AttributeType.INT)
                .setI(1)
                .build()));
    writeModel(graph, dir);
    return dir;
  }

  private static void writeModel(GraphProto.Builder graph, Path dir) throws IOException {
    ModelProto model =
        ModelProto.newBuilder()
            .setIrVersion(7)
            .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13))
            .setGraph(graph)
            .build();
    try (OutputStream out = Files.newOutputStream(dir.resolve("model.onnx"))) {
      model.writeTo(out);
    }
  }

  private static NodeProto node(
      String op, List<String> inputs, String output, AttributeProto... attributes) {
    return NodeProto.newBuilder()
        .setOpType(op)
        .addAllInput(inputs)
        .addOutput(output)
        .addAllAttribute(List.of(attributes))
        .build();
  }

  private static ValueInfoProto info(String name, DataType type, int rank) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (int i = 0; i < rank; i++) {
      shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("d" + i));
    }
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(
                    TypeProto.Tensor.newBuilder().setElemType(type.getNumber()).setShape(shape)))
        .build();
  }
}

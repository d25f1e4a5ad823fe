package dev.ncalign.demo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
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
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes {@link RewardNet} as an ONNX model with the Hugging Face sequence-classification signature
 * (inputs {@code input_ids}, {@code attention_mask} int64 [batch, sequence]; output {@code logits}
 * float [batch, 1]), built from the official ONNX protobuf classes, and reads its weights back.
 */
public final class RewardNetOnnx {

  /**
   * Opset 13: ReduceSum takes axes as an input, ReduceMax as an attribute; ONNX Runtime 1.x runs
   * it.
   */
  private static final int OPSET = 13;

  private static final int IR_VERSION = 7;
  private static final String BATCH = "batch_size";
  private static final String SEQUENCE = "sequence_length";

  private RewardNetOnnx() {}

  /** Writes the graph and {@code net}'s weights to {@code file}. */
  public static void write(RewardNet net, Path file) throws IOException {
    GraphProto.Builder graph = GraphProto.newBuilder().setName("ncalign_embedded_reward");
    graph.addInput(tensorInfo("input_ids", DataType.INT64, BATCH, SEQUENCE));
    graph.addInput(tensorInfo("attention_mask", DataType.INT64, BATCH, SEQUENCE));
    graph.addOutput(tensorInfo("logits", DataType.FLOAT, BATCH, 1));
    for (Map.Entry<String, NDArray> weight : net.weights().entrySet()) {
      graph.addInitializer(
          floatTensor(
              weight.getKey(),
              weight.getValue().getShape().getShape(),
              weight.getValue().toFloatArray()));
    }
    graph.addInitializer(int64Tensor("axis_1", 1));
    graph.addInitializer(int64Tensor("axis_2", 2));
    graph.addInitializer(
        floatTensor("length_scale", new long[0], new float[] {RewardNet.LENGTH_SCALE}));
    long vocabulary = net.weights().get(RewardNet.EMBEDDINGS).getShape().get(0);
    graph.addInitializer(int64Tensor("vocabulary_size", vocabulary));
    graph.addInitializer(floatTensor("one_hot_values", new long[] {2}, new float[] {0f, 1f}));

    node(graph, "Gather", List.of(RewardNet.EMBEDDINGS, "input_ids"), "embedded");
    node(
        graph, "Cast", List.of("attention_mask"), "mask", intAttribute("to", DataType.FLOAT_VALUE));
    node(graph, "Unsqueeze", List.of("mask", "axis_2"), "mask_btc");
    node(graph, "Mul", List.of("embedded", "mask_btc"), "masked_embedded");
    node(
        graph,
        "Transpose",
        List.of("masked_embedded"),
        "channels_first",
        intsAttribute("perm", 0, 2, 1));
    node(
        graph,
        "Conv",
        List.of("channels_first", RewardNet.CONV_WEIGHT, RewardNet.CONV_BIAS),
        "conv",
        intsAttribute("kernel_shape", RewardNet.KERNEL),
        intsAttribute("pads", RewardNet.KERNEL / 2, RewardNet.KERNEL / 2));
    node(graph, "Relu", List.of("conv"), "conv_relu");
    node(graph, "Unsqueeze", List.of("mask", "axis_1"), "mask_bct");
    node(graph, "Mul", List.of("conv_relu", "mask_bct"), "features");
    node(
        graph,
        "ReduceSum",
        List.of("features", "axis_2"),
        "feature_sum",
        intAttribute("keepdims", 0));
    node(graph, "ReduceSum", List.of("mask", "axis_1"), "token_count", intAttribute("keepdims", 1));
    node(graph, "Div", List.of("feature_sum", "token_count"), "feature_mean");
    node(
        graph,
        "ReduceMax",
        List.of("features"),
        "feature_max",
        intsAttribute("axes", 2),
        intAttribute("keepdims", 0));
    node(graph, "Div", List.of("token_count", "length_scale"), "length");
    // Share of distinct token ids: one-hot over the vocabulary, masked, max over positions, summed.
    node(graph, "OneHot", List.of("input_ids", "vocabulary_size", "one_hot_values"), "one_hot");
    node(graph, "Mul", List.of("one_hot", "mask_btc"), "masked_one_hot");
    node(
        graph,
        "ReduceMax",
        List.of("masked_one_hot"),
        "present",
        intsAttribute("axes", 1),
        intAttribute("keepdims", 0));
    node(
        graph,
        "ReduceSum",
        List.of("present", "axis_1"),
        "distinct_count",
        intAttribute("keepdims", 1));
    node(graph, "Div", List.of("distinct_count", "token_count"), "distinct_share");
    node(
        graph,
        "Concat",
        List.of("feature_mean", "feature_max", "length", "distinct_share"),
        "pooled",
        intAttribute("axis", 1));
    node(graph, "MatMul", List.of("pooled", RewardNet.DENSE_WEIGHT), "dense");
    node(graph, "Add", List.of("dense", RewardNet.DENSE_BIAS), "dense_biased");
    node(graph, "Relu", List.of("dense_biased"), "hidden");
    node(graph, "MatMul", List.of("hidden", RewardNet.OUT_WEIGHT), "out");
    node(graph, "Add", List.of("out", RewardNet.OUT_BIAS), "logits");

    ModelProto model =
        ModelProto.newBuilder()
            .setIrVersion(IR_VERSION)
            .setProducerName("ncalign")
            .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
            .setGraph(graph)
            .build();
    try (OutputStream out = Files.newOutputStream(file)) {
      model.writeTo(out);
    }
  }

  /** The float initializers of an ONNX file as arrays in {@code manager}, by name. */
  public static Map<String, NDArray> readWeights(Path file, NDManager manager) throws IOException {
    ModelProto model;
    try (InputStream in = Files.newInputStream(file)) {
      model = ModelProto.parseFrom(in);
    }
    Map<String, NDArray> weights = new LinkedHashMap<>();
    for (TensorProto tensor : model.getGraph().getInitializerList()) {
      if (tensor.getDataType() == DataType.FLOAT_VALUE && !tensor.getDimsList().isEmpty()) {
        float[] values = new float[tensor.getRawData().size() / Float.BYTES];
        tensor
            .getRawData()
            .asReadOnlyByteBuffer()
            .order(ByteOrder.LITTLE_ENDIAN)
            .asFloatBuffer()
            .get(values);
        long[] dims = tensor.getDimsList().stream().mapToLong(Long::longValue).toArray();
        weights.put(tensor.getName(), manager.create(values, new Shape(dims)));
      }
    }
    return weights;
  }

  private static void node(
      GraphProto.Builder graph,
      String op,
      List<String> inputs,
      String output,
      AttributeProto... attributes) {
    graph.addNode(
        NodeProto.newBuilder()
            .setOpType(op)
            .setName(output + "_" + op.toLowerCase())
            .addAllInput(inputs)
            .addOutput(output)
            .addAllAttribute(Arrays.asList(attributes)));
  }

  private static AttributeProto intAttribute(String name, long value) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.INT)
        .setI(value)
        .build();
  }

  private static AttributeProto intsAttribute(String name, long... values) {
    AttributeProto.Builder attribute =
        AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
    for (long value : values) {
      attribute.addInts(value);
    }
    return attribute.build();
  }

  /**
   * A tensor's type with named (dynamic) or fixed dimensions: each dim is a String or an Integer.
   */
  private static ValueInfoProto tensorInfo(String name, DataType type, Object... dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (Object dim : dims) {
      TensorShapeProto.Dimension.Builder d = TensorShapeProto.Dimension.newBuilder();
      if (dim instanceof String param) {
        d.setDimParam(param);
      } else {
        d.setDimValue(((Integer) dim).longValue());
      }
      shape.addDim(d);
    }
    TypeProto.Tensor.Builder tensor =
        TypeProto.Tensor.newBuilder().setElemType(type.getNumber()).setShape(shape);
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(TypeProto.newBuilder().setTensorType(tensor))
        .build();
  }

  private static TensorProto floatTensor(String name, long[] dims, float[] values) {
    ByteBuffer bytes =
        ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(values);
    TensorProto.Builder tensor =
        TensorProto.newBuilder()
            .setName(name)
            .setDataType(DataType.FLOAT_VALUE)
            .setRawData(ByteString.copyFrom(bytes.array()));
    for (long dim : dims) {
      tensor.addDims(dim);
    }
    return tensor.build();
  }

  private static TensorProto int64Tensor(String name, long value) {
    return TensorProto.newBuilder()
        .setName(name)
        .setDataType(DataType.INT64_VALUE)
        .addDims(1)
        .addInt64Data(value)
        .build();
  }
}

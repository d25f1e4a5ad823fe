package dev.ncalign.bench;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * A small fluent writer of ONNX graphs for benchmark models: each {@link #op} adds one node and
 * returns the name of its output, so a graph reads like the computation it encodes. Opset 17 (it
 * has {@code LayerNormalization} and {@code Trilu}); every tensor dimension of inputs and outputs
 * is dynamic.
 */
final class RewardOnnxGraph {

  private static final int OPSET = 17;
  private static final int IR_VERSION = 8;

  private final GraphProto.Builder graph;
  private int nodes;

  RewardOnnxGraph(String name) {
    this.graph = GraphProto.newBuilder().setName(name);
  }

  /** An INT64 or FLOAT graph input or output of the given rank, every dimension named. */
  private static ValueInfoProto value(String name, DataType type, int rank) {
    TypeProto.Tensor.Builder tensor = TypeProto.Tensor.newBuilder().setElemType(type.getNumber());
    for (int i = 0; i < rank; i++) {
      tensor.getShapeBuilder().addDimBuilder().setDimParam(name + "_dim" + i);
    }
    TypeProto typeProto = TypeProto.newBuilder().setTensorType(tensor).build();
    return ValueInfoProto.newBuilder().setName(name).setType(typeProto).build();
  }

  RewardOnnxGraph input(String name, DataType type, int rank) {
    graph.addInput(value(name, type, rank));
    return this;
  }

  RewardOnnxGraph output(String name, DataType type, int rank) {
    graph.addOutput(value(name, type, rank));
    return this;
  }

  /** A float weight of shape {@code dims}, uniform in ±{@code scale}; returns its name. */
  String weight(String name, Random random, float scale, long... dims) {
    long count = 1;
    for (long dim : dims) {
      count *= dim;
    }
    float[] values = new float[Math.toIntExact(count)];
    for (int i = 0; i < values.length; i++) {
      values[i] = (random.nextFloat() * 2 - 1) * scale;
    }
    return floats(name, values, dims);
  }

  /** A float constant filled with {@code value}; returns its name. */
  String filled(String name, float value, long... dims) {
    long count = 1;
    for (long dim : dims) {
      count *= dim;
    }
    float[] values = new float[Math.toIntExact(count)];
    Arrays.fill(values, value);
    return floats(name, values, dims);
  }

  private String floats(String name, float[] values, long... dims) {
    TensorProto.Builder tensor = TensorProto.newBuilder().setName(name);
    tensor.setDataType(DataType.FLOAT_VALUE);
    tensor.addAllDims(Arrays.stream(dims).boxed().toList());
    for (float value : values) {
      tensor.addFloatData(value);
    }
    graph.addInitializer(tensor);
    return name;
  }

  /** A 1-D INT64 constant; returns its name. */
  String longs(String name, long... values) {
    TensorProto.Builder tensor =
        TensorProto.newBuilder()
            .setName(name)
            .setDataType(DataType.INT64_VALUE)
            .addDims(values.length);
    for (long value : values) {
      tensor.addInt64Data(value);
    }
    graph.addInitializer(tensor);
    return name;
  }

  /** A scalar (rank 0) INT64 constant; returns its name. */
  String scalar(String name, long value) {
    graph.addInitializer(
        TensorProto.newBuilder()
            .setName(name)
            .setDataType(DataType.INT64_VALUE)
            .addInt64Data(value));
    return name;
  }

  /** Adds a node of {@code type} and returns the name of its single output. */
  String op(String type, List<String> inputs, AttributeProto... attributes) {
    return op(type, type.toLowerCase() + "_" + nodes, inputs, attributes);
  }

  /** Adds a node of {@code type} whose output is {@code output} (e.g. a graph output). */
  String op(String type, String output, List<String> inputs, AttributeProto... attributes) {
    graph.addNode(
        NodeProto.newBuilder()
            .setOpType(type)
            .setName("node_" + nodes++)
            .addAllInput(inputs)
            .addOutput(output)
            .addAllAttribute(List.of(attributes)));
    return output;
  }

  private static AttributeProto.Builder named(String name, AttributeProto.AttributeType type) {
    return AttributeProto.newBuilder().setName(name).setType(type);
  }

  static AttributeProto attribute(String name, long value) {
    return named(name, AttributeProto.AttributeType.INT).setI(value).build();
  }

  static AttributeProto attribute(String name, float value) {
    return named(name, AttributeProto.AttributeType.FLOAT).setF(value).build();
  }

  static AttributeProto attribute(String name, long[] values) {
    return named(name, AttributeProto.AttributeType.INTS)
        .addAllInts(Arrays.stream(values).boxed().toList())
        .build();
  }

  /** A one-element float tensor attribute, as {@code ConstantOfShape} takes its fill value. */
  static AttributeProto tensorAttribute(String name, float value) {
    return named(name, AttributeProto.AttributeType.TENSOR)
        .setT(
            TensorProto.newBuilder()
                .setDataType(DataType.FLOAT_VALUE)
                .addDims(1)
                .addFloatData(value))
        .build();
  }

  /** Writes the model to {@code file}. */
  void write(Path file) throws IOException {
    ModelProto model =
        ModelProto.newBuilder()
            .setIrVersion(IR_VERSION)
            .setProducerName("ncalign-bench")
            .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
            .setGraph(graph)
            .build();
    try (OutputStream out = Files.newOutputStream(file)) {
      model.writeTo(out);
    }
  }
}

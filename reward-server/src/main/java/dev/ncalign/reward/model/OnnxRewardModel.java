package dev.ncalign.reward.model;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Hugging Face sequence-classification model exported to ONNX ({@code model.onnx}), run with ONNX
 * Runtime. The reward of a row is {@code logits[row, labelIndex]}. Thread-safe: ONNX Runtime
 * sessions accept concurrent runs.
 */
public final class OnnxRewardModel implements AutoCloseable {

  /** Model file name inside a model directory. */
  public static final String MODEL_FILE = "model.onnx";

  private static final Logger LOG = LoggerFactory.getLogger(OnnxRewardModel.class);

  private final OrtEnvironment env;
  private final OrtSession session;
  private final ModelSignature signature;
  private final int labelIndex;
  private final String sha256;
  private final String device;

  private OnnxRewardModel(
      OrtEnvironment env,
      OrtSession session,
      ModelSignature signature,
      int labelIndex,
      String sha256,
      String device) {
    this.env = env;
    this.session = session;
    this.signature = signature;
    this.labelIndex = labelIndex;
    this.sha256 = sha256;
    this.device = device;
  }

  /**
   * Loads {@code model.onnx} from {@code dir} on the CUDA execution provider if this ONNX Runtime
   * build has one and it initialises, on the CPU otherwise.
   *
   * @throws IllegalArgumentException if the graph declares an input or output that cannot be served
   */
  public static OnnxRewardModel load(Path dir, int labelIndex) throws IOException, OrtException {
    Path file = dir.resolve(MODEL_FILE);
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("no " + MODEL_FILE + " in " + dir);
    }
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    String device = "cpu";
    OrtSession session;
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      if (OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
        try {
          options.addCUDA(0);
          device = "cuda:0";
        } catch (OrtException e) {
          // The provider is compiled in but no usable GPU or CUDA libraries: serve on the CPU.
          LOG.warn("CUDA execution provider unavailable, using CPU: {}", e.getMessage());
        }
      }
      session = env.createSession(file.toString(), options);
    }
    try {
      ModelSignature signature = ModelSignature.of(session, labelIndex);
      LOG.info(
          "loaded {} on {}: inputs {}, outputs {}",
          file,
          device,
          signature.inputs(),
          signature.outputs());
      return new OnnxRewardModel(env, session, signature, labelIndex, sha256(file), device);
    } catch (RuntimeException | IOException e) {
      session.close();
      throw e;
    }
  }

  /**
   * One ONNX run over a padded batch; returns {@code logits[:, labelIndex]} as produced, finite or
   * not.
   */
  public float[] score(PaddedBatch batch) throws OrtException {
    Map<String, OnnxTensor> inputs = new HashMap<>();
    try {
      inputs.put(ModelSignature.INPUT_IDS, tensor(batch.inputIds(), batch));
      if (signature.takes(ModelSignature.ATTENTION_MASK)) {
        inputs.put(ModelSignature.ATTENTION_MASK, tensor(batch.attentionMask(), batch));
      }
      if (signature.takes(ModelSignature.TOKEN_TYPE_IDS)) {
        inputs.put(ModelSignature.TOKEN_TYPE_IDS, tensor(batch.tokenTypeIds(), batch));
      }
      try (OrtSession.Result result = session.run(inputs, Set.of(ModelSignature.LOGITS))) {
        return column(
            (OnnxTensor) result.get(ModelSignature.LOGITS).map(OnnxValue.class::cast).orElseThrow(),
            batch.batch());
      }
    } finally {
      inputs.values().forEach(OnnxTensor::close);
    }
  }

  private float[] column(OnnxTensor logits, int rows) {
    long[] shape = logits.getInfo().getShape();
    if (shape.length != 2 || shape[0] != rows || labelIndex >= shape[1]) {
      throw new IllegalStateException(
          "output '"
              + ModelSignature.LOGITS
              + "' has shape "
              + Arrays.toString(shape)
              + " for "
              + rows
              + " rows and label index "
              + labelIndex);
    }
    FloatBuffer values = logits.getFloatBuffer();
    float[] rewards = new float[rows];
    for (int row = 0; row < rows; row++) {
      rewards[row] = values.get((int) (row * shape[1] + labelIndex));
    }
    return rewards;
  }

  private OnnxTensor tensor(long[] values, PaddedBatch batch) throws OrtException {
    return OnnxTensor.createTensor(env, LongBuffer.wrap(values), batch.shape());
  }

  /** The graph's inputs and outputs. */
  public ModelSignature signature() {
    return signature;
  }

  /** Column of logits used as the reward. */
  public int labelIndex() {
    return labelIndex;
  }

  /** Lower-case hex SHA-256 of model.onnx. */
  public String sha256() {
    return sha256;
  }

  /** Where the model runs: "cpu" or "cuda:0". */
  public String device() {
    return device;
  }

  private static String sha256(Path file) throws IOException {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  @Override
  public void close() throws OrtException {
    session.close();
  }
}

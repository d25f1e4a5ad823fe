package dev.ncalign.lm.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Llama-style causal language model loaded from (and saved as) a Hugging Face model directory
 * (see {@link HfModelDirectory}), with the sequence scoring the learner and the servers share.
 *
 * <p>Memory: the weights live in {@link #manager()}; every other array is created in the NDManager
 * the caller passes in (open {@code manager().newSubManager()} per step or request and close it).
 * Weights are held as float32 (the learner's master weights) unless loaded with another {@link
 * WeightDType}; whatever they are held as, {@link #save(Path)} writes the dtype the base model was
 * stored in. Thread safety: forwards may run concurrently; loading weights must not overlap a
 * forward.
 */
public final class CausalLm implements AutoCloseable {

  /** Scored tokens whose logits are computed together by default (≈ 64 MB of F32 at 150 k). */
  public static final int DEFAULT_SCORING_CHUNK_ROWS = 112;

  private final HfModelDirectory source;
  private final TextCodec codec;
  private final WeightDType dtype;
  private final WeightDType baseDType;
  private final NDManager manager;
  private final LlamaForCausalLm model;

  /** Added to the frozen linear layers in every forward (LoRA); null for the plain model. */
  private final LinearAdapter adapter;

  /** The model whose weights this adapter view shares; null when this instance owns them. */
  private final CausalLm base;

  private CausalLm(
      HfModelDirectory source,
      TextCodec codec,
      Device device,
      WeightDType dtype,
      WeightDType baseDType) {
    this.source = source;
    this.codec = codec;
    this.dtype = dtype;
    this.baseDType = baseDType;
    this.manager = NDManager.newBaseManager(device);
    this.model = new LlamaForCausalLm(source.config(), manager, dtype.arrayType());
    this.adapter = null;
    this.base = null;
  }

  /** An adapter view: {@code base}'s weights, with {@code adapter} added in the forward. */
  private CausalLm(CausalLm base, LinearAdapter adapter) {
    this.source = base.source;
    this.codec = base.codec;
    this.dtype = base.dtype;
    this.baseDType = base.baseDType;
    this.manager = base.manager;
    this.model = base.model;
    this.adapter = adapter;
    this.base = base;
  }

  /**
   * This model's weights, frozen, with {@code adapter} added to the linear layers it targets. The
   * view shares the weights (no copy) and owns the adapter: closing it closes the adapter, never
   * the weights, so this model must outlive its views. This model itself stays adapter-free, which
   * makes it the reference π_ref of a LoRA run. Freezing turns gradient tracking off on every base
   * weight, so a backward pass through the view reaches the adapter's parameters only.
   */
  public CausalLm withAdapter(LinearAdapter adapter) {
    if (base != null) {
      throw new IllegalStateException("already an adapter view; add adapters to the base model");
    }
    for (Parameter p : parameters().values()) {
      p.getArray().setRequiresGradient(false);
    }
    return new CausalLm(this, java.util.Objects.requireNonNull(adapter, "adapter"));
  }

  /** The adapter this view adds, or null for a plain model. */
  public LinearAdapter adapter() {
    return adapter;
  }

  /** The model whose weights this adapter view shares; this model itself when it is plain. */
  public CausalLm base() {
    return base == null ? this : base;
  }

  /**
   * What a learner updates: the adapter's parameters for an adapter view, every weight otherwise.
   */
  public Map<String, Parameter> trainableParameters() {
    return adapter == null ? parameters() : adapter.parameters();
  }

  /** Loads an HF model directory onto {@code device} with float32 weights. */
  public static CausalLm load(Path modelDir, Device device) {
    return load(modelDir, device, WeightDType.F32);
  }

  /**
   * Loads an HF model directory onto {@code device}, holding the weights as {@code dtype} (see
   * {@link WeightDType#arrayType()}).
   *
   * @throws ModelDirectoryException one line naming the file and field or tensor at fault
   */
  public static CausalLm load(Path modelDir, Device device, WeightDType dtype) {
    HfModelDirectory dir = HfModelDirectory.open(modelDir);
    return load(dir, device, dtype, dir.storedDType());
  }

  /**
   * Loads for serving with the dtype named by {@code choice}: {@code auto} is the stored dtype
   * ({@code torch_dtype}) on a GPU and float32 on a CPU (CPU kernels are fastest and exact in
   * float32); otherwise {@code float32}, {@code bfloat16} or {@code float16}.
   *
   * @throws IllegalArgumentException for another choice; {@link ModelDirectoryException} as above
   */
  public static CausalLm load(Path modelDir, Device device, String choice) {
    HfModelDirectory dir = HfModelDirectory.open(modelDir);
    WeightDType stored = dir.storedDType();
    WeightDType dtype;
    if ("auto".equalsIgnoreCase(choice)) {
      dtype = device.isGpu() ? stored : WeightDType.F32;
    } else {
      try {
        dtype = WeightDType.parse(choice);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "dtype must be auto, float32, bfloat16 or float16, got '" + choice + "'");
      }
    }
    return load(dir, device, dtype, stored);
  }

  private static CausalLm load(
      HfModelDirectory dir, Device device, WeightDType dtype, WeightDType stored) {
    TextCodec codec = dir.codec();
    CausalLm lm = new CausalLm(dir, codec, device, dtype, stored);
    try {
      dir.readWeights(lm::loadWeights);
      return lm;
    } catch (RuntimeException e) {
      lm.close();
      throw e;
    }
  }

  /**
   * A model of the same architecture, dtype and tokenizer with zero weights in its own memory, to
   * load a new weight version into while this one keeps serving (hot-swap).
   */
  public CausalLm newStandby() {
    return new CausalLm(source, codec.retain(), manager.getDevice(), dtype, baseDType);
  }

  /**
   * Writes an HF directory transformers can load: config.json, model.safetensors in the dtype the
   * base model was stored in ({@link #baseDType()}), tokenizer files copied from the source.
   */
  public void save(Path modelDir) {
    save(modelDir, baseDType);
  }

  /** Like {@link #save(Path)} with the weights written as {@code weightsDType}. */
  public void save(Path modelDir, WeightDType weightsDType) {
    requirePlain("save");
    HfModelDirectory.write(modelDir, source.rawConfig(), arrays(), weightsDType, source.path());
  }

  /** The dtype the base model's weights were stored in; checkpoints are saved in it. */
  public WeightDType baseDType() {
    return baseDType;
  }

  /** The dtype the weights were loaded as. */
  public WeightDType dtype() {
    return dtype;
  }

  public ModelConfig config() {
    return source.config();
  }

  public TextCodec codec() {
    return codec;
  }

  /** The NDManager owning the weights; open per-request/per-step sub-managers from it. */
  public NDManager manager() {
    return manager;
  }

  /**
   * Trainable parameters by HF tensor name, in model order. Their arrays require gradients; a tied
   * lm_head is not listed separately (it is {@code model.embed_tokens.weight}).
   */
  public Map<String, Parameter> parameters() {
    return model.parameters();
  }

  /** Number of trainable scalars. */
  public long parameterCount() {
    return parameters().values().stream().mapToLong(p -> p.getArray().size()).sum();
  }

  /**
   * Logits [batch, seq, vocab] for {@code inputIds} (int64 [batch, seq]) at {@code positionIds}
   * (float32 [batch or 1, seq]) with an additive {@link AttentionMask} over cached + new keys,
   * extending {@code cache} when given. Results belong to the inputs' NDManager.
   */
  public NDArray forward(NDArray inputIds, NDArray positionIds, NDArray mask, KvCache cache) {
    return model.forward(inputIds, positionIds, mask, cache, adapter);
  }

  /**
   * As {@link #forward}, but logits [batch, vocab] of the last position only: the lm_head, the
   * largest matrix of a small model, runs on one position per row instead of all of them (prefill
   * needs only the next-token distribution).
   */
  public NDArray forwardLast(NDArray inputIds, NDArray positionIds, NDArray mask, KvCache cache) {
    NDArray hidden = model.hiddenStates(inputIds, positionIds, mask, cache, adapter);
    // A decode step's single position needs a view, not an index op.
    return model.logits(
        inputIds.getShape().get(1) == 1 ? hidden.squeeze(1) : hidden.get(":, -1, :"));
  }

  /**
   * Log-prob of each response token given the prompt and the previous response tokens (prompt
   * tokens are not scored). Sequences are right-padded into one batch; with a causal mask, padding
   * after a sequence cannot change it. Every prompt must have at least one token (the model never
   * adds BOS). Logits are computed only at the scored positions and {@link
   * #DEFAULT_SCORING_CHUNK_ROWS} rows at a time, so the full [rows, tokens, vocab] tensor never
   * exists.
   *
   * @param scope NDManager for inputs and results (on the model's device); close it after the step
   * @param training true keeps the autograd graph (call inside a GradientCollector); false records
   *     none
   */
  public SequenceLogprobs logprobs(
      NDManager scope, List<int[]> promptIds, List<int[]> responseIds, boolean training) {
    return logprobs(scope, promptIds, responseIds, training, DEFAULT_SCORING_CHUNK_ROWS);
  }

  /**
   * As {@link #logprobs(NDManager, List, List, boolean)}, computing the logits of at most {@code
   * chunkRows} scored tokens at a time.
   */
  public SequenceLogprobs logprobs(
      NDManager scope,
      List<int[]> promptIds,
      List<int[]> responseIds,
      boolean training,
      int chunkRows) {
    if (promptIds.size() != responseIds.size() || promptIds.isEmpty()) {
      throw new IllegalArgumentException("need as many prompts as responses, at least one");
    }
    if (chunkRows < 1) {
      throw new IllegalArgumentException("chunkRows must be ≥ 1, got " + chunkRows);
    }
    int n = promptIds.size();
    int maxLength = 0;
    int maxResponse = 0;
    for (int i = 0; i < n; i++) {
      if (promptIds.get(i).length == 0) {
        throw new IllegalArgumentException(
            "prompt " + i + " has no tokens; the tokenizer adds no BOS");
      }
      maxLength = Math.max(maxLength, promptIds.get(i).length + responseIds.get(i).length);
      maxResponse = Math.max(maxResponse, responseIds.get(i).length);
    }
    if (maxLength > config().maxPositionEmbeddings()) {
      throw new IllegalArgumentException(
          "sequence of "
              + maxLength
              + " tokens exceeds the context of "
              + config().maxPositionEmbeddings());
    }
    if (maxResponse == 0) {
      return new SequenceLogprobs(scope.zeros(new Shape(n, 0)), scope.zeros(new Shape(n)));
    }
    long[] ids = new long[n * maxLength];
    Arrays.fill(ids, codec.padId());
    // Padding slots score position 0 of their row; their result is multiplied by 0.
    long[] scoredPositions = new long[n * maxResponse];
    long[] targets = new long[n * maxResponse];
    float[] present = new float[n * maxResponse];
    for (int i = 0; i < n; i++) {
      int[] prompt = promptIds.get(i);
      int[] response = responseIds.get(i);
      for (int t = 0; t < prompt.length; t++) {
        ids[i * maxLength + t] = prompt[t];
      }
      for (int j = 0; j < response.length; j++) {
        ids[i * maxLength + prompt.length + j] = response[j];
        // The logits at position t predict token t + 1.
        scoredPositions[i * maxResponse + j] = (long) i * maxLength + prompt.length - 1 + j;
        targets[i * maxResponse + j] = response[j];
        present[i * maxResponse + j] = 1f;
      }
    }
    try (NoGrad ignored = training ? null : NoGrad.enter()) {
      NDArray inputIds = scope.create(ids, new Shape(n, maxLength));
      NDArray positions = scope.arange(0f, maxLength).reshape(1, maxLength);
      NDArray hidden =
          model.hiddenStates(
              inputIds, positions, AttentionMask.causal(scope, maxLength), null, adapter);
      // Hidden states of the flattened [n * maxLength, hidden] batch at the scored positions.
      NDArray scoredHidden =
          hidden
              .reshape(-1, config().hiddenSize())
              .get(new NDIndex("{}", scope.create(scoredPositions)));
      NDArray tokenLogprobs =
          chunkedTargetLogprobs(scope, scoredHidden, targets, chunkRows)
              .reshape(n, maxResponse)
              .mul(scope.create(present, new Shape(n, maxResponse)));
      return new SequenceLogprobs(tokenLogprobs, tokenLogprobs.sum(new int[] {1}));
    }
  }

  /**
   * log_softmax(lm_head(hidden))[target] for each row of {@code hidden} [rows, hiddenSize], {@code
   * chunkRows} rows at a time; each chunk's [chunkRows, vocab] logits are freed before the next
   * (under autograd the graph keeps what backward needs).
   */
  private NDArray chunkedTargetLogprobs(
      NDManager scope, NDArray hidden, long[] targets, int chunkRows) {
    int rows = targets.length;
    NDList parts = new NDList();
    for (int from = 0; from < rows; from += chunkRows) {
      int to = Math.min(rows, from + chunkRows);
      // The gather index lives in scope, not in the chunk: DJL makes it a view of a Java buffer,
      // and autograd keeps it for the backward pass, which runs after the chunk is gone; freed
      // early, the buffer is reused and backward reads garbage indices.
      NDArray index = scope.create(Arrays.copyOfRange(targets, from, to), new Shape(to - from, 1));
      try (NDManager chunk = scope.newSubManager()) {
        NDArray part =
            model
                .logits(hidden.get(chunk, new NDIndex("{}:{}", from, to)))
                .logSoftmax(-1)
                .gather(index, 1)
                .reshape(to - from);
        part.attach(scope);
        parts.add(part);
      }
    }
    return parts.size() == 1 ? parts.singletonOrThrow() : NDArrays.concat(parts);
  }

  /** Writes every weight as F32 under its HF name, one tensor at a time. */
  public void writeSafetensors(OutputStream out) {
    writeSafetensors(out, WeightDType.F32);
  }

  /**
   * Streams every weight under its HF name in {@code weightsDType}: the header, then one tensor at
   * a time (PushWeights, checkpoints).
   */
  public void writeSafetensors(OutputStream out, WeightDType weightsDType) {
    requirePlain("writeSafetensors");
    SafetensorsWriter.write(out, arrays(), weightsDType);
  }

  /** The exact byte length {@link #writeSafetensors(OutputStream, WeightDType)} writes. */
  public long safetensorsSize(WeightDType weightsDType) {
    return SafetensorsWriter.byteSize(arrays(), weightsDType);
  }

  /**
   * Replaces every weight from a safetensors stream. The header is checked first (every tensor
   * known, present and of the expected shape) so a mismatched file changes nothing; a stream that
   * breaks off later leaves the weights partly replaced (load into {@link #newStandby()} to stay
   * safe).
   *
   * @throws IllegalArgumentException naming the offending tensor
   */
  public void loadSafetensors(InputStream in) {
    loadWeights(new Safetensors.Reader(in));
  }

  /** Replaces every weight from {@code weights}, checked first as {@link #loadSafetensors} says. */
  public void loadWeights(Safetensors.Source weights) {
    requirePlain("loadWeights");
    Map<String, Parameter> parameters = parameters();
    for (Safetensors.TensorInfo info : weights.header().values()) {
      Parameter target = parameters.get(info.name());
      if (target == null && !isIgnorable(info.name())) {
        throw new IllegalArgumentException("unknown tensor '" + info.name() + "'");
      }
      long[] expected =
          target != null
              ? target.getArray().getShape().getShape()
              : expectedShapeOfIgnorable(info.name());
      if (expected != null && !Arrays.equals(expected, info.shape())) {
        throw new IllegalArgumentException(
            "tensor '"
                + info.name()
                + "' has shape "
                + Arrays.toString(info.shape())
                + ", expected "
                + Arrays.toString(expected)
                + (info.source() == null ? "" : " (in " + info.source() + ")"));
      }
    }
    for (String name : parameters.keySet()) {
      if (!weights.header().containsKey(name)) {
        throw new IllegalArgumentException("missing tensor '" + name + "'");
      }
    }
    weights.forEachTensor(
        (info, data) -> {
          Parameter target = parameters.get(info.name());
          if (target != null) {
            WeightArrays.copyInto(target.getArray(), info, data);
          }
        });
  }

  /**
   * Tensors HF checkpoints may carry that this model does not need: rotary caches, a tied lm_head.
   */
  private boolean isIgnorable(String name) {
    return name.endsWith("rotary_emb.inv_freq")
        || (config().tieWordEmbeddings() && "lm_head.weight".equals(name));
  }

  private long[] expectedShapeOfIgnorable(String name) {
    return "lm_head.weight".equals(name)
        ? new long[] {config().vocabSize(), config().hiddenSize()}
        : null;
  }

  private Map<String, NDArray> arrays() {
    Map<String, NDArray> arrays = new LinkedHashMap<>();
    parameters().forEach((name, p) -> arrays.put(name, p.getArray()));
    return arrays;
  }

  /**
   * The base weights alone would silently drop the adapter: save the adapter (PEFT) or merge it.
   */
  private void requirePlain(String operation) {
    if (base != null) {
      throw new IllegalStateException(
          operation + " works on plain weights; this is a LoRA adapter view of them");
    }
  }

  @Override
  public void close() {
    if (base != null) {
      adapter.close();
      return;
    }
    manager.close();
    codec.close();
  }
}

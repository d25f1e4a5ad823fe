package dev.ncalign.lm.sampling;

/**
 * One completion.
 *
 * @param promptIndex index of its prompt in the request
 * @param sampleIndex 0 ≤ index &lt; K
 * @param text decoded response (special tokens and the stop string left out)
 * @param tokenIds response ids as sampled (a sampled eos is included, a stop string's tokens are
 *     not)
 * @param tokenLogprobs natural-log probability of each token under the unmodified policy
 *     (temperature 1, no top-k/top-p): what {@code CausalLm.logprobs} returns for the same ids
 * @param sumLogprob sum of tokenLogprobs, accumulated in double
 * @param finishReason why it ended
 */
public record SampledSequence(
    int promptIndex,
    int sampleIndex,
    String text,
    int[] tokenIds,
    float[] tokenLogprobs,
    double sumLogprob,
    FinishReason finishReason) {}

package dev.ncalign.lm.model;

import ai.djl.ndarray.NDArray;

/**
 * Log-probabilities of response tokens given their prompt, for a batch of N sequences.
 *
 * @param tokenLogprobs [N, maxResponseLength] float32: log p(response[j] | prompt, response[..j]);
 *     0 beyond each response's length
 * @param sums [N] float32: sum over each response's tokens (the sequence log-prob)
 */
public record SequenceLogprobs(NDArray tokenLogprobs, NDArray sums) {}

/**
 * LoRA adapters (Hu et al. 2021) in PEFT's formats: a frozen base model plus trainable low-rank
 * updates {@code W + (alpha/r)·B·A} on chosen linear layers, their {@code adapter_config.json} /
 * {@code adapter_model.safetensors} I/O, validation against a base model, and merging.
 */
package dev.ncalign.lm.lora;

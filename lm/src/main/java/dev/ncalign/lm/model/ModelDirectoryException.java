package dev.ncalign.lm.model;

import java.nio.file.Path;

/**
 * A Hugging Face model directory that cannot be loaded: a missing file, a missing or unsupported
 * field, a shard named but absent, a tensor of the wrong shape. The message is one line naming the
 * file and the field or tensor, meant to be printed as it is (no stack trace needed).
 */
public final class ModelDirectoryException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  private final transient Path file;

  /**
   * @param file the offending file (or the directory itself when it is missing)
   * @param problem what is wrong, naming the field or tensor
   */
  public ModelDirectoryException(Path file, String problem) {
    super(file + ": " + problem);
    this.file = file;
  }

  /** The offending file. */
  public Path file() {
    return file;
  }
}

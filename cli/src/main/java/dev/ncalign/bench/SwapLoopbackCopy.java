package dev.ncalign.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * The machine's loopback copy rate: bytes written from memory into a TCP socket on 127.0.0.1 and
 * read back on another thread, the floor under any push of the same bytes over loopback.
 */
final class SwapLoopbackCopy {

  private static final int BUFFER = 1 << 20;

  private SwapLoopbackCopy() {}

  /** Seconds to send {@code bytes} through a loopback socket until the reader has them all. */
  static double seconds(byte[] bytes) {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      CompletableFuture<Long> received = CompletableFuture.supplyAsync(() -> drain(server));
      long start = System.nanoTime();
      try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
          OutputStream out = socket.getOutputStream()) {
        for (int from = 0; from < bytes.length; from += BUFFER) {
          out.write(bytes, from, Math.min(BUFFER, bytes.length - from));
        }
      }
      long count = received.get();
      double seconds = (System.nanoTime() - start) / 1e9;
      if (count != bytes.length) {
        throw new IllegalStateException(
            "loopback copy lost bytes: " + count + " of " + bytes.length);
      }
      return seconds;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("loopback reader failed", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static long drain(ServerSocket server) {
    byte[] buffer = new byte[BUFFER];
    long total = 0;
    try (Socket socket = server.accept();
        InputStream in = socket.getInputStream()) {
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        total += n;
      }
      return total;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

package dev.ncalign.reward.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ncalign.proto.v1.GetInfoRequest;
import dev.ncalign.proto.v1.RewardServiceGrpc;
import dev.ncalign.reward.model.TinyOnnxModels;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsTest {

  private static final char[] PASSWORD = "changeit".toCharArray();

  @Test
  void servesTlsWithTheGivenCertificateAndKey(@TempDir Path tmp) throws Exception {
    Path cert = tmp.resolve("cert.pem");
    Path key = tmp.resolve("key.pem");
    selfSignedFor127001(tmp, cert, key);
    try (RewardServer server =
        RewardServer.start(
            RewardServerOptions.defaults(TinyOnnxModels.servable(tmp.resolve("model"), 0))
                .withTls(cert, key))) {
      ManagedChannel tls =
          Grpc.newChannelBuilderForAddress(
                  "127.0.0.1",
                  server.port(),
                  TlsChannelCredentials.newBuilder().trustManager(cert.toFile()).build())
              .build();
      ManagedChannel plaintext =
          Grpc.newChannelBuilderForAddress(
                  "127.0.0.1", server.port(), InsecureChannelCredentials.create())
              .build();
      try {
        assertEquals(
            512, // no reward_config.json: the default max length
            RewardServiceGrpc.newBlockingStub(tls)
                .getInfo(GetInfoRequest.getDefaultInstance())
                .getMaxLength());
        assertThrows(
            StatusRuntimeException.class,
            () ->
                RewardServiceGrpc.newBlockingStub(plaintext)
                    .withDeadlineAfter(10, TimeUnit.SECONDS)
                    .getInfo(GetInfoRequest.getDefaultInstance()));
      } finally {
        tls.shutdownNow();
        plaintext.shutdownNow();
      }
    }
  }

  /** A self-signed RSA certificate for IP 127.0.0.1 made with the JDK's keytool, written as PEM. */
  private static void selfSignedFor127001(Path tmp, Path cert, Path key) throws Exception {
    Path store = tmp.resolve("server.p12");
    Process keytool =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair",
                "-alias",
                "server",
                "-keyalg",
                "RSA",
                "-keysize",
                "2048",
                "-validity",
                "2",
                "-dname",
                "CN=localhost",
                "-ext",
                "SAN=ip:127.0.0.1",
                "-storetype",
                "PKCS12",
                "-keystore",
                store.toString(),
                "-storepass",
                new String(PASSWORD),
                "-keypass",
                new String(PASSWORD))
            .redirectErrorStream(true)
            .start();
    String output = new String(keytool.getInputStream().readAllBytes());
    assertEquals(0, keytool.waitFor(), output);
    KeyStore keyStore = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      keyStore.load(in, PASSWORD);
    }
    Files.writeString(cert, pem("CERTIFICATE", keyStore.getCertificate("server").getEncoded()));
    Files.writeString(key, pem("PRIVATE KEY", keyStore.getKey("server", PASSWORD).getEncoded()));
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }
}

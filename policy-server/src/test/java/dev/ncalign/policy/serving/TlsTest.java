package dev.ncalign.policy.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ncalign.lm.model.TestModels;
import dev.ncalign.proto.v1.GetInfoRequest;
import dev.ncalign.proto.v1.PolicyServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** --tls-cert/--tls-key serve TLS; a client trusting the certificate gets through. */
class TlsTest {

  @Test
  void servesTlsWithAPemCertificate() throws Exception {
    Path dir = TestModels.tempDir("tls");
    Path cert = dir.resolve("cert.pem");
    Path key = dir.resolve("key.pem");
    assumeTrue(selfSigned(cert, key), "openssl is needed to make a test certificate");
    PolicyServerOptions plain = PolicyServerOptions.defaults(TestModels.tinyDir());
    PolicyServerOptions options = plain.withShell(plain.shell().withTls(cert, key));
    try (PolicyServer server = PolicyServer.start(options)) {
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("localhost", server.port())
              .sslContext(GrpcSslContexts.forClient().trustManager(cert.toFile()).build())
              .build();
      try {
        assertEquals(
            1,
            PolicyServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS)
                .getInfo(GetInfoRequest.getDefaultInstance())
                .getLiveVersion());
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  private static boolean selfSigned(Path cert, Path key) {
    try {
      Process openssl =
          new ProcessBuilder(
                  "openssl",
                  "req",
                  "-x509",
                  "-newkey",
                  "rsa:2048",
                  "-nodes",
                  "-keyout",
                  key.toString(),
                  "-out",
                  cert.toString(),
                  "-days",
                  "1",
                  "-subj",
                  "/CN=localhost",
                  "-addext",
                  "subjectAltName=DNS:localhost,IP:127.0.0.1")
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      return openssl.waitFor(60, TimeUnit.SECONDS) && openssl.exitValue() == 0;
    } catch (java.io.IOException | InterruptedException e) {
      return false;
    }
  }
}

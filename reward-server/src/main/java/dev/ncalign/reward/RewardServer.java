package dev.ncalign.reward;

import ai.onnxruntime.OrtException;
import dev.ncalign.proto.v1.RewardServiceGrpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptors;
import io.grpc.TlsServerCredentials;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running reward server: {@link RewardService} plus the standard gRPC health and reflection services
 * on one port. Tests and the orchestrator can run it in-process; {@link Main} runs it from the command line.
 */
public final class RewardServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RewardServer.class);

    private final Server server;
    private final RewardScorer scorer;
    private final HealthStatusManager health;

    private RewardServer(Server server, RewardScorer scorer, HealthStatusManager health) {
        this.server = server;
        this.scorer = scorer;
        this.health = health;
    }

    /**
     * Loads the model and starts listening.
     *
     * @throws IllegalArgumentException if the model or settings cannot be served (the message names why)
     * @throws IOException if the model cannot be read or the port cannot be bound
     */
    public static RewardServer start(RewardServerOptions options) throws IOException {
        RewardModelConfig settings = options.resolve(
                RewardModelConfig.read(options.modelDir()).orElse(RewardModelConfig.DEFAULTS));
        RewardScorer scorer;
        try {
            scorer = RewardScorer.open(options.modelDir(), settings.inputFormat(), settings.labelIndex(),
                    settings.maxLength(), options.maxBatchSize(), Duration.ofMillis(options.maxWaitMs()));
        } catch (OrtException e) {
            throw new IOException("ONNX Runtime could not load " + options.modelDir() + ": " + e.getMessage(), e);
        }
        try {
            RewardService service = new RewardService(scorer, options.maxItems(), options.maxChars());
            HealthStatusManager health = new HealthStatusManager();
            NettyServerBuilder builder = NettyServerBuilder
                    .forAddress(new InetSocketAddress(options.bind(), options.port()), credentials(options))
                    .maxInboundMessageSize(options.maxMessageBytes())
                    .addService(health.getHealthService())
                    .addService(ProtoReflectionServiceV1.newInstance());
            if (options.tokenFile() != null) {
                String token = Files.readString(options.tokenFile()).strip();
                builder.addService(ServerInterceptors.intercept(service, new BearerTokenInterceptor(token)));
            } else {
                if (!InetAddress.getByName(options.bind()).isLoopbackAddress()) {
                    LOG.warn("listening on {} without a bearer token: anyone who can reach it can score", options.bind());
                }
                builder.addService(service);
            }
            Server server = builder.build().start();
            health.setStatus("", ServingStatus.SERVING);
            health.setStatus(RewardServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
            LOG.info("reward server on {}:{} serving {} ({}, label {}, max_length {})", options.bind(), server.getPort(),
                    options.modelDir(), settings.inputFormat(), settings.labelIndex(), settings.maxLength());
            return new RewardServer(server, scorer, health);
        } catch (IOException | RuntimeException e) {
            closeQuietly(scorer);
            throw e;
        }
    }

    private static ServerCredentials credentials(RewardServerOptions options) throws IOException {
        if (options.tlsCert() == null) {
            return InsecureServerCredentials.create();
        }
        return TlsServerCredentials.create(options.tlsCert().toFile(), options.tlsKey().toFile());
    }

    /** The port actually bound (useful after asking for port 0). */
    public int port() {
        return server.getPort();
    }

    /** Blocks until the server shuts down. */
    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    /** Reports NOT_SERVING, stops accepting calls, lets running ones finish briefly, then frees the model. */
    @Override
    public void close() {
        health.enterTerminalState();
        server.shutdown();
        try {
            if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
                server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        }
        closeQuietly(scorer);
    }

    private static void closeQuietly(RewardScorer scorer) {
        try {
            scorer.close();
        } catch (OrtException e) {
            LOG.warn("closing the model failed", e);
        }
    }
}

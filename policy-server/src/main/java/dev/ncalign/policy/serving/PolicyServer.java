package dev.ncalign.policy.serving;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.ncalign.policy.model.CausalLm;
import dev.ncalign.proto.v1.PolicyServiceGrpc;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running policy server: PolicyService plus gRPC health and reflection, over Netty. Startable
 * in-process so tests and the project's CLI can run it without a separate JVM.
 */
public final class PolicyServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PolicyServer.class);

    private final Server server;
    private final PolicyRegistry registry;
    private final HealthStatusManager health;

    private PolicyServer(Server server, PolicyRegistry registry, HealthStatusManager health) {
        this.server = server;
        this.registry = registry;
        this.health = health;
    }

    /** Loads the model, binds, and starts serving. */
    public static PolicyServer start(PolicyServerOptions options) {
        InetAddress address = resolve(options.bind());
        String token = readToken(options, address);
        CausalLm model = CausalLm.load(options.modelDir(), resolveDevice(options.device()));
        PolicyRegistry registry = new PolicyRegistry(model);
        Policy policy = new Policy(registry, options.limits(), options.modelDir().toAbsolutePath().toString());
        ServerServiceDefinition service = new PolicyGrpcService(policy).bindService();
        if (token != null) {
            service = ServerInterceptors.intercept(service, new BearerTokenInterceptor(
                    token, Set.of(PolicyServiceGrpc.getPushWeightsMethod().getFullMethodName())));
        }
        HealthStatusManager health = new HealthStatusManager();
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(address, options.port()))
                .maxInboundMessageSize(options.maxInboundMessageBytes())
                .addService(service)
                .addService(health.getHealthService())
                .addService(ProtoReflectionServiceV1.newInstance());
        if (options.tlsCertChain() != null) {
            builder.useTransportSecurity(options.tlsCertChain().toFile(), options.tlsPrivateKey().toFile());
        }
        Server server = builder.build();
        try {
            server.start();
        } catch (IOException e) {
            registry.close();
            throw new UncheckedIOException("cannot listen on " + options.bind() + ":" + options.port(), e);
        }
        health.setStatus("", ServingStatus.SERVING);
        health.setStatus(PolicyServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
        LOG.info("serving {} ({} parameters) on {}:{}, device {}", options.modelDir(), model.parameterCount(),
                address.getHostAddress(), server.getPort(), model.manager().getDevice());
        return new PolicyServer(server, registry, health);
    }

    /** The bound port (the real one when 0 was asked for). */
    public int port() {
        return server.getPort();
    }

    /** The weight versions, for in-process inspection. */
    public PolicyRegistry registry() {
        return registry;
    }

    /** Blocks until the server shuts down. */
    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    /** Stops accepting calls, lets running ones finish (up to 30 s), frees the model. */
    @Override
    public void close() {
        health.enterTerminalState();
        server.shutdown();
        try {
            if (!server.awaitTermination(30, TimeUnit.SECONDS)) {
                server.shutdownNow();
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        }
        registry.close();
    }

    /** {@code auto}: DJL's default device (a GPU when one is visible); {@code cpu}; {@code gpu}: GPU 0. */
    public static Device resolveDevice(String device) {
        return switch (device.toLowerCase(Locale.ROOT)) {
            case "auto" -> Engine.getInstance().defaultDevice();
            case "cpu" -> Device.cpu();
            case "gpu" -> {
                if (Engine.getInstance().getGpuCount() == 0) {
                    throw new IllegalArgumentException("--device gpu: DJL sees no GPU (CPU libtorch on the classpath?)");
                }
                yield Device.gpu();
            }
            default -> throw new IllegalArgumentException("--device must be auto, cpu or gpu, got " + device);
        };
    }

    private static InetAddress resolve(String bind) {
        try {
            return InetAddress.getByName(bind);
        } catch (IOException e) {
            throw new IllegalArgumentException("--bind: cannot resolve " + bind, e);
        }
    }

    /** The PushWeights token; mandatory when listening beyond loopback, since a push replaces the model. */
    private static String readToken(PolicyServerOptions options, InetAddress address) {
        if (options.pushTokenFile() == null) {
            if (!address.isLoopbackAddress()) {
                throw new IllegalArgumentException(
                        "--push-token-file is required when binding beyond loopback (" + options.bind() + ")");
            }
            return null;
        }
        try {
            String token = Files.readString(options.pushTokenFile()).trim();
            if (token.isEmpty()) {
                throw new IllegalArgumentException("--push-token-file " + options.pushTokenFile() + " is empty");
            }
            return token;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + options.pushTokenFile(), e);
        }
    }
}

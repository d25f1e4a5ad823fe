package dev.ncalign.orchestrator.client;

import io.grpc.BindableService;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Real gRPC servers on 127.0.0.1 ephemeral ports for client tests, with health, closed together.
 */
final class LoopbackServers implements AutoCloseable {

  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  /** Every authorization header any server received, in arrival order. */
  final List<String> authorizations = new CopyOnWriteArrayList<>();

  private final List<Server> servers = new ArrayList<>();
  private final List<AutoCloseable> clients = new ArrayList<>();

  /** A client of {@code targets}, closed (before the servers) with these servers. */
  PolicyClient policyClient(List<String> targets, ClientOptions options) {
    PolicyClient client = new PolicyClient(targets, options);
    clients.add(client);
    return client;
  }

  /** Starts a server for {@code service} and returns its {@code 127.0.0.1:port} target. */
  String start(BindableService service) throws IOException {
    Server server = startAt(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), service);
    return "127.0.0.1:" + server.getPort();
  }

  /** Starts a server for {@code service} on {@code address} (a loopback address). */
  Server startAt(InetSocketAddress address, BindableService service) throws IOException {
    ServerInterceptor recordAuth =
        new ServerInterceptor() {
          @Override
          public <Q, R> io.grpc.ServerCall.Listener<Q> interceptCall(
              io.grpc.ServerCall<Q, R> call,
              Metadata headers,
              io.grpc.ServerCallHandler<Q, R> next) {
            String auth = headers.get(AUTHORIZATION);
            if (auth != null) {
              authorizations.add(auth);
            }
            return Contexts.interceptCall(io.grpc.Context.current(), call, headers, next);
          }
        };
    Server server =
        NettyServerBuilder.forAddress(address)
            .addService(ServerInterceptors.intercept(service, recordAuth))
            .addService(new HealthStatusManager().getHealthService())
            .build()
            .start();
    servers.add(server);
    return server;
  }

  /**
   * Kills the server at {@code 127.0.0.1:port} the way a crashed process goes: connections cut,
   * calls in flight fail.
   */
  void kill(String target) throws InterruptedException {
    int port = Integer.parseInt(target.substring(target.lastIndexOf(':') + 1));
    for (Server server : servers) {
      if (server.getPort() == port && !server.isShutdown()) {
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  /** Starts {@code service} again on the port of {@code target}, as a restarted replica. */
  void restart(String target, BindableService service) throws IOException {
    int port = Integer.parseInt(target.substring(target.lastIndexOf(':') + 1));
    startAt(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), service);
  }

  /** A loopback target nothing listens on: connecting to it is refused. */
  static String deadTarget() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return "127.0.0.1:" + socket.getLocalPort();
    }
  }

  @Override
  public void close() {
    // Clients first: their health rounds would otherwise log every server going down.
    for (AutoCloseable client : clients) {
      try {
        client.close();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
    for (Server server : servers) {
      server.shutdownNow();
    }
    try {
      for (Server server : servers) {
        server.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

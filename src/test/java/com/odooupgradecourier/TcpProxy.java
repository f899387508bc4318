package com.odooupgradecourier;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy on loopback in front of a server (a test's PostgreSQL or SFTP server), that can be cut: every connection
 * through it is dropped and new ones are closed at once, as when the server goes away; then let through again. With a
 * one-way delay it is a long link: every byte is held that long in each direction (nothing else is limited).
 */
final class TcpProxy implements AutoCloseable {
    private final ServerSocket server;
    private final String targetHost;
    private final int targetPort;
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final long delayNanos;
    private volatile boolean cut;

    TcpProxy(String targetHost, int targetPort) throws IOException {
        this(targetHost, targetPort, java.time.Duration.ZERO);
    }

    TcpProxy(String targetHost, int targetPort, java.time.Duration oneWay) throws IOException {
        this.delayNanos = oneWay.toNanos();
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        server = new ServerSocket();
        server.bind(new InetSocketAddress("127.0.0.1", 0));
        Thread accept = new Thread(this::accept, "tcp-proxy");
        accept.setDaemon(true);
        accept.start();
    }

    int port() {
        return server.getLocalPort();
    }

    /** Drops every connection, and refuses new ones until {@link #restore()}. */
    void cut() {
        cut = true;
        for (Socket s : open) {
            try {
                s.close();
            } catch (IOException ignored) {
                // gone anyway
            }
        }
        open.clear();
    }

    void restore() {
        cut = false;
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                if (cut) {
                    client.close();
                    continue;
                }
                Socket target = new Socket(targetHost, targetPort);
                open.add(client);
                open.add(target);
                pump(client, target);
                pump(target, client);
            } catch (IOException e) {
                // the server closed, or the target refused: the client sees its connection end
            }
        }
    }

    private void pump(Socket from, Socket to) {
        java.util.concurrent.LinkedBlockingQueue<Object[]> held = new java.util.concurrent.LinkedBlockingQueue<>();
        if (delayNanos > 0) {
            // what was read waits its delay here, then goes on in the order it came
            Thread reader = new Thread(() -> {
                try (InputStream in = from.getInputStream()) {
                    for (byte[] buf = new byte[65536];; buf = new byte[65536]) {
                        int n = in.read(buf);
                        held.add(new Object[] {System.nanoTime() + delayNanos, n < 0 ? null : java.util.Arrays.copyOf(buf, n)});
                        if (n < 0) {
                            return;
                        }
                    }
                } catch (IOException e) {
                    held.add(new Object[] {System.nanoTime(), null});
                }
            }, "tcp-proxy-delay");
            reader.setDaemon(true);
            reader.start();
        }
        Thread t = new Thread(() -> {
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                if (delayNanos == 0) {
                    in.transferTo(out);
                }
                for (Object[] c = delayNanos == 0 ? null : held.take(); c != null && c[1] != null; c = held.take()) {
                    for (long wait = (long) c[0] - System.nanoTime(); wait > 0; wait = (long) c[0] - System.nanoTime()) {
                        java.util.concurrent.locks.LockSupport.parkNanos(wait);
                    }
                    out.write((byte[]) c[1]);
                }
            } catch (IOException | InterruptedException ignored) {
                // one side closed
            } finally {
                try {
                    from.close();
                    to.close();
                } catch (IOException ignored) {
                    // closed
                }
                open.remove(from);
                open.remove(to);
            }
        }, "tcp-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() throws IOException {
        server.close();
        cut();
    }
}

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
 * one-way delay it is a long link: every byte is held that long in each direction (nothing else is limited). It can
 * also stop passing what clients send after some bytes, while answers still come back: a server that stopped taking
 * data (a hung disk, a stalled process) as its clients see it.
 */
final class TcpProxy implements AutoCloseable {
    private final ServerSocket server;
    private final String targetHost;
    private final int targetPort;
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final long delayNanos;
    private volatile boolean cut;
    private volatile long upstreamLeft = Long.MAX_VALUE;

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

    /** From now on, passes {@code bytes} more of what clients send, then holds the rest (answers go on) until {@link #cut()}. */
    void holdUpstreamAfter(long bytes) {
        upstreamLeft = bytes;
    }

    /** Writes {@code n} bytes client to server: those the hold leaves, then waits until the proxy is cut. */
    private void upstream(OutputStream out, byte[] b, int n) throws IOException {
        long pass;
        synchronized (this) {
            pass = Math.min(n, Math.max(0, upstreamLeft));
            if (upstreamLeft != Long.MAX_VALUE) {
                upstreamLeft -= pass;
            }
        }
        out.write(b, 0, (int) pass);
        if (pass < n) {
            while (!cut) {
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
            }
            throw new IOException("cut");
        }
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
                pump(client, target, true);
                pump(target, client, false);
            } catch (IOException e) {
                // the server closed, or the target refused: the client sees its connection end
            }
        }
    }

    private void pump(Socket from, Socket to, boolean up) {
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
                    byte[] buf = new byte[65536];
                    for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                        if (up) {
                            upstream(out, buf, n);
                        } else {
                            out.write(buf, 0, n);
                        }
                    }
                }
                for (Object[] c = delayNanos == 0 ? null : held.take(); c != null && c[1] != null; c = held.take()) {
                    for (long wait = (long) c[0] - System.nanoTime(); wait > 0; wait = (long) c[0] - System.nanoTime()) {
                        java.util.concurrent.locks.LockSupport.parkNanos(wait);
                    }
                    byte[] b = (byte[]) c[1];
                    if (up) {
                        upstream(out, b, b.length);
                    } else {
                        out.write(b);
                    }
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

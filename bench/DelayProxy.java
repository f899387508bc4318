import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;

/**
 * A delay proxy for the WAN benchmark, on loopback only: every byte is held for a fixed one-way delay in each
 * direction (and, optionally, limited to a rate), like a long link. Run with Java's source launcher:
 *
 * <pre>java bench/DelayProxy.java LISTEN_PORT TARGET_PORT ONE_WAY_MS [BYTES_PER_SECOND|0] [LIFETIME_SECONDS]</pre>
 *
 * At most 64 MiB per direction and connection are held in flight (a large TCP window), so the delay, not the
 * proxy, bounds what a protocol with its own acknowledgements (SSH's window, SFTP's requests) can move. It exits
 * after its lifetime (default one hour), so a benchmark that dies never leaves it behind.
 */
public final class DelayProxy {
    private static final int CHUNK = 64 * 1024;
    private static final int IN_FLIGHT = 64 * 1024 * 1024;

    private record Chunk(long due, byte[] data, int length) {
    }

    public static void main(String[] args) throws Exception {
        int listen = Integer.parseInt(args[0]);
        int target = Integer.parseInt(args[1]);
        long delayNanos = Long.parseLong(args[2]) * 1_000_000L;
        long rate = args.length > 3 ? Long.parseLong(args[3]) : 0;
        long lifetime = args.length > 4 ? Long.parseLong(args[4]) : 3600;
        Thread reaper = new Thread(() -> {
            try {
                Thread.sleep(lifetime * 1000);
            } catch (InterruptedException ignored) {
                // stopped early
            }
            System.exit(0);
        });
        reaper.setDaemon(true);
        reaper.start();
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(loopback, listen));
            System.out.println("DelayProxy " + listen + " -> " + target + ", " + args[2] + " ms each way");
            while (true) {
                Socket client = server.accept();
                Socket upstream = new Socket(loopback, target);
                for (Socket s : new Socket[] {client, upstream}) {
                    s.setTcpNoDelay(true);
                    s.setSendBufferSize(4 << 20);
                    s.setReceiveBufferSize(4 << 20);
                }
                pipe(client, upstream, delayNanos, rate);
                pipe(upstream, client, delayNanos, rate);
            }
        }
    }

    /**
     * Waits until {@code due} (a {@link System#nanoTime()}), to the microsecond: Thread.sleep(0, n) sleeps a whole
     * millisecond, so a stream of chunks read microseconds apart was held a millisecond each (a cap of a chunk per
     * millisecond, about 16–30 MiB/s, whatever the protocol); what is due within 50 µs goes at once.
     */
    private static void parkUntil(long due) {
        for (long wait = due - System.nanoTime(); wait > 50_000; wait = due - System.nanoTime()) {
            java.util.concurrent.locks.LockSupport.parkNanos(wait);
        }
    }

    /** One direction: a reader that stamps what it reads, a writer that passes it on when its delay is over. */
    private static void pipe(Socket from, Socket to, long delayNanos, long rate) {
        LinkedBlockingQueue<Chunk> queue = new LinkedBlockingQueue<>();
        Semaphore room = new Semaphore(IN_FLIGHT);
        Thread reader = new Thread(() -> {
            try (InputStream in = from.getInputStream()) {
                while (true) {
                    byte[] buf = new byte[CHUNK];
                    int n = in.read(buf);
                    if (n < 0) {
                        break;
                    }
                    room.acquire(n);
                    queue.put(new Chunk(System.nanoTime() + delayNanos, buf, n));
                }
            } catch (Exception ignored) {
                // the connection ended
            }
            queue.add(new Chunk(System.nanoTime() + delayNanos, null, -1));
        });
        Thread writer = new Thread(() -> {
            long sentNanos = System.nanoTime();
            try (OutputStream out = to.getOutputStream()) {
                while (true) {
                    Chunk c = queue.take();
                    parkUntil(c.due());
                    if (c.data() == null) {
                        to.shutdownOutput();
                        break;
                    }
                    if (rate > 0) {
                        // the link's rate: this chunk leaves no sooner than the last one's bytes took
                        sentNanos = Math.max(sentNanos, System.nanoTime()) + c.length() * 1_000_000_000L / rate;
                        parkUntil(sentNanos);
                    }
                    out.write(c.data(), 0, c.length());
                    room.release(c.length());
                }
            } catch (Exception ignored) {
                // the connection ended
            } finally {
                try {
                    from.close();
                    to.close();
                } catch (Exception ignored) {
                    // closed already
                }
            }
        });
        reader.setDaemon(true);
        writer.setDaemon(true);
        reader.start();
        writer.start();
    }
}

package com.odooupgradecourier.transfer;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.camel.ExchangeProperty;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.entity.AbstractHttpEntity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Transfers in progress: bytes moved, rate, time left. Each transfer's stream passes through here; the
 * log gets a progress line every {@code courier.progress-interval} seconds (not per chunk), the status
 * API reads the numbers, and the metrics count every byte.
 */
public class Progress {
    private static final Logger LOG = LoggerFactory.getLogger("courier");
    private final Map<String, Transfer> transfers = new ConcurrentHashMap<>();
    private final AtomicLong bytesTransferred = new AtomicLong();
    private final long intervalNanos;

    public Progress(long intervalSeconds) {
        this.intervalNanos = Math.max(1, intervalSeconds) * 1_000_000_000L;
    }

    /** Every byte uploaded or downloaded since start. */
    public long bytesTransferred() {
        return bytesTransferred.get();
    }

    /** The transfer of a dump in progress, as shown by the status API; empty when none. */
    public Map<String, Object> of(String dumpId) {
        Transfer t = transfers.get(dumpId);
        return t == null ? Map.of() : t.describe();
    }

    /** The dump as an HTTP body of known length, counted as it is sent. */
    public AbstractHttpEntity uploadEntity(@ExchangeProperty("dumpId") String dumpId, @ExchangeProperty("fileName") String name,
                                           @ExchangeProperty("dumpPath") String dumpPath, org.apache.camel.Exchange exchange)
            throws IOException {
        Path file = Path.of(dumpPath);
        long size = Files.size(file);
        exchange.removeProperty("sentSha256");
        return new AbstractHttpEntity(ContentType.APPLICATION_OCTET_STREAM, null) {
            @Override
            public InputStream getContent() throws IOException {
                // the bytes sent are hashed as they go: sentSha256 once all were read (DumpInspector.checkSent)
                InputStream hashed = new HashedWhileRead(Files.newInputStream(file),
                        sha -> exchange.setProperty("sentSha256", sha));
                return track(hashed, dumpId, name, "uploading", size, 0);
            }

            @Override
            public void writeTo(OutputStream out) throws IOException {
                try (InputStream in = getContent()) {
                    in.transferTo(out);
                }
            }

            @Override
            public long getContentLength() {
                return size;
            }

            @Override
            public boolean isRepeatable() {
                return true;
            }

            @Override
            public boolean isStreaming() {
                return false;
            }

            @Override
            public void close() {
                // nothing held open between writes
            }
        };
    }

    /** An HTTP download on its way to disk (from {@code offset} when resumed). */
    public InputStream trackDownload(@org.apache.camel.Body InputStream in, @ExchangeProperty("dumpId") String dumpId,
                                     @ExchangeProperty("fileName") String name, @ExchangeProperty("offset") long offset,
                                     @org.apache.camel.Header("Content-Length") Long length) {
        return track(in, dumpId, name, "downloading", length == null ? -1 : offset + length, offset);
    }

    /** A transfer moved by several streams at once: {@code add} what each moves, close when it ends. */
    public interface Counter extends java.util.function.LongConsumer, AutoCloseable {
        @Override
        void close();
    }

    /** Counts a transfer that moves its bytes itself: {@code offset} bytes were already moved before (a resumed transfer). */
    public Counter count(String dumpId, String name, String direction, long total, long offset) {
        Transfer t = new Transfer(name, direction, total, offset);
        transfers.put(dumpId, t);
        return new Counter() {
            @Override
            public void accept(long n) {
                t.add(n);
            }

            @Override
            public void close() {
                transfers.remove(dumpId, t);
            }
        };
    }

    /** Wraps a transfer's stream: {@code offset} bytes were already moved before (a resumed transfer). */
    public InputStream track(InputStream in, String dumpId, String name, String direction, long total, long offset) {
        Counter counter = count(dumpId, name, direction, total, offset);
        return new FilterInputStream(in) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                if (b >= 0) {
                    counter.accept(1);
                }
                return b;
            }

            @Override
            public int read(byte[] buf, int off, int len) throws IOException {
                int n = super.read(buf, off, len);
                if (n > 0) {
                    counter.accept(n);
                }
                return n;
            }

            @Override
            public void close() throws IOException {
                super.close();
                counter.close();
            }
        };
    }

    private final class Transfer {
        final String name;
        final String direction;
        final long total;
        final long offset;
        final long started = System.nanoTime();
        final AtomicLong moved = new AtomicLong();
        volatile long lastLog = started;

        Transfer(String name, String direction, long total, long offset) {
            this.name = name;
            this.direction = direction;
            this.total = total;
            this.offset = offset;
        }

        void add(long n) {
            moved.addAndGet(n);
            bytesTransferred.addAndGet(n);
            long now = System.nanoTime();
            if (now - lastLog >= intervalNanos) {
                lastLog = now;
                Map<String, Object> d = describe();
                if (total > 0) {
                    LOG.info("{}: {} {}% ({} of {}), {}/s, {} left", name, direction, d.get("percent"), human(offset + moved.get()),
                            human(total), human((long) (double) d.get("bytes_per_second")), d.get("time_left"));
                } else {
                    LOG.info("{}: {} {} so far, {}/s", name, direction, human(offset + moved.get()),
                            human((long) (double) d.get("bytes_per_second")));
                }
            }
        }

        Map<String, Object> describe() {
            long done = offset + moved.get();
            double seconds = Math.max(1e-3, (System.nanoTime() - started) / 1e9);
            double rate = moved.get() / seconds;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("direction", direction);
            m.put("bytes", done);
            m.put("total", total);
            m.put("percent", total > 0 ? (int) (100 * done / total) : null);
            m.put("bytes_per_second", rate);
            m.put("time_left", total > 0 && rate > 0 ? clock((long) ((total - done) / rate)) : null);
            return m;
        }
    }

    private static java.security.MessageDigest sha256() {
        try {
            return java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String human(long bytes) {
        if (bytes >= 1L << 30) {
            return String.format(Locale.ROOT, "%.2f GB", bytes / (double) (1L << 30));
        }
        if (bytes >= 1L << 20) {
            return String.format(Locale.ROOT, "%.1f MB", bytes / (double) (1L << 20));
        }
        return String.format(Locale.ROOT, "%.1f kB", bytes / 1024.0);
    }

    static String clock(long seconds) {
        return seconds >= 3600 ? String.format("%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60)
                : String.format("%d:%02d", seconds / 60, seconds % 60);
    }

    /** A stream whose bytes are hashed as they are read; the sha256 is handed on once the end is read. */
    private static final class HashedWhileRead extends java.security.DigestInputStream {
        private final java.util.function.Consumer<String> atEnd;
        private boolean ended;

        HashedWhileRead(InputStream in, java.util.function.Consumer<String> atEnd) {
            super(in, sha256());
            this.atEnd = atEnd;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n < 0 && !ended) {
                ended = true;
                atEnd.accept(java.util.HexFormat.of().formatHex(getMessageDigest().digest()));
            }
            return n;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }
    }
}

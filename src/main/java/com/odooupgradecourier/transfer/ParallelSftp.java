package com.odooupgradecourier.transfer;

import java.io.IOException;
import java.io.InputStream;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongConsumer;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.keyverifier.KnownHostsServerKeyVerifier;
import org.apache.sshd.client.keyverifier.RejectAllServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.cipher.BuiltinCiphers;
import org.apache.sshd.common.util.security.SecurityUtils;
import org.apache.sshd.sftp.client.SftpClient;
import org.apache.sshd.sftp.client.SftpClient.CloseableHandle;
import org.apache.sshd.sftp.client.SftpClient.OpenMode;
import org.apache.sshd.sftp.client.SftpClientFactory;
import org.apache.sshd.sftp.client.impl.AbstractSftpClient;
import org.apache.sshd.sftp.client.impl.SftpInputStreamAsync;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One SSH session to the platform's SFTP server carrying several SFTP channels, each moving its own pieces of
 * one file at their offsets. Over a long link one channel moves at most one SSH window (about 2 MiB, granted
 * by the receiver) per round trip, whatever the client does; several channels each have their own window.
 *
 * <p>Apache MINA SSHD's SFTP client, not JSch's: JSch opens a file for writing either truncated or in append
 * mode, and in append mode the server writes every request at the end of the file, so JSch cannot write a
 * piece at its offset; MINA opens a file for writing without either and streams writes (and reads) at any
 * offset with many requests in flight. Host keys are checked strictly against known_hosts, the request's own
 * key is the only identity offered.
 */
public final class ParallelSftp implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("courier");
    /** The size of the buffers pieces are read and written through. */
    private static final int REQUEST = 32 * 1024;
    /** The bytes of an SFTP data answer before its data (length, type, request id, data length). */
    private static final int DATA_HEADER = 4 + 1 + 4 + 4;

    /** Called with each piece once all of it is on the other side. */
    public interface PieceDone {
        void done(long start, long end) throws Exception;
    }

    private final SshClient client;
    private final ClientSession session;
    private final String where;
    /** How long a request may be, as the server said on the first channel of the transfer under way (before its pieces move). */
    private volatile SftpLimits limits = SftpLimits.UNKNOWN;

    private ParallelSftp(SshClient client, ClientSession session, String where) {
        this.client = client;
        this.session = session;
        this.where = where;
    }

    public static ParallelSftp connect(String host, int port, String user, Path privateKey, Path knownHosts, Duration timeout)
            throws IOException, RefusedException {
        String where = user + "@" + host + ":" + port;
        SshClient client = SshClient.setUpDefaultClient();
        AtomicBoolean hostKeyRefused = new AtomicBoolean();
        KnownHostsServerKeyVerifier known = new KnownHostsServerKeyVerifier(RejectAllServerKeyVerifier.INSTANCE, knownHosts);
        client.setServerKeyVerifier((ClientSession s, SocketAddress address, PublicKey key) -> {
            boolean ok = known.verifyServerKey(s, address, key);
            hostKeyRefused.set(!ok);
            return ok;
        });
        // AES first (the JVM does it in hardware); MINA's default, ChaCha20, runs in Java at a third of the speed
        client.setCipherFactories(new ArrayList<>(List.of(BuiltinCiphers.aes128gcm, BuiltinCiphers.aes256gcm,
                BuiltinCiphers.aes128ctr, BuiltinCiphers.aes256ctr, BuiltinCiphers.cc20p1305_openssh)));
        // the request's own key only: no agent, no keys of the service's user
        client.setKeyIdentityProvider(s -> List.of());
        client.start();
        ClientSession session = null;
        try {
            session = client.connect(user, host, port).verify(timeout).getSession();
            for (KeyPair k : keys(privateKey)) {
                session.addPublicKeyIdentity(k);
            }
            try {
                session.auth().verify(timeout);
            } catch (IOException e) {
                if (hostKeyRefused.get()) {
                    throw new RefusedException(RefusedException.Reason.HOST_KEY, "the SFTP server " + host + ":" + port + " presented a host key that is not the one in "
                            + knownHosts + " (check upgrade.sftp.known-hosts)", e);
                }
                if (String.valueOf(e.getMessage()).contains("No more authentication methods")) {
                    throw new RefusedException(RefusedException.Reason.KEY, "the SFTP server " + where + " refused the request's key", e);
                }
                throw e;
            }
            return new ParallelSftp(client, session, where);
        } catch (IOException | RefusedException | RuntimeException e) {
            if (session != null) {
                session.close(true);
            }
            client.stop();
            throw e;
        }
    }

    private static Iterable<KeyPair> keys(Path privateKey) throws IOException {
        try (InputStream in = Files.newInputStream(privateKey)) {
            return SecurityUtils.loadKeyPairIdentities(null, NamedResource.ofName(privateKey.getFileName().toString()), in, null);
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("cannot read the request's key " + privateKey + ": " + e.getMessage(), e);
        }
    }

    /** The size of {@code remote}, which must exist. */
    public long size(String remote) throws IOException {
        try (SftpClient sftp = SftpClientFactory.instance().createSftpClient(session)) {
            return sftp.stat(remote).getSize();
        }
    }

    /**
     * Writes {@code pieces} of {@code local} to the same offsets of {@code remote}, over up to {@code channels} channels.
     * Each channel writes its lane's pieces one after another in one stream of requests, and a piece is done (told to
     * {@code done}, by the channel's reader of acknowledgements: {@link WritePipeline}) once the server acknowledged every
     * write of it: the requests in flight never drain between pieces.
     * With {@code fresh}, {@code remote} is emptied (or created) first. Answers the size of {@code remote} afterwards, as
     * the server tells it.
     */
    public long upload(Path local, String remote, boolean fresh, List<long[]> pieces, int channels, LongConsumer moved, PieceDone done)
            throws Exception {
        long[] size = {-1};
        run(pieces, channels, moved, (sftp, lane, counted) -> {
            // opened without truncating or appending: each channel writes its pieces at their offsets
            try (CloseableHandle h = sftp.open(remote, EnumSet.of(OpenMode.Write, OpenMode.Create));
                 FileChannel in = FileChannel.open(local, StandardOpenOption.READ);
                 WritePipeline out = new WritePipeline((AbstractSftpClient) sftp, h, limits, done, Thread.currentThread().getName())) {
                while (true) {
                    long[] p = lane.own();
                    if (p == null) {
                        // only a channel with nothing unacknowledged takes work from the others: one whose server
                        // stopped answering would otherwise take piece after piece into its window and hold them all
                        out.drain();
                        p = lane.get();
                    }
                    if (p == null) {
                        break;
                    }
                    out.write(in, local, p, counted);
                }
                out.finish();
            }
        }, sftp -> {
            if (fresh) {
                // emptied (or created) before any piece is written: a transfer with no piece recorded starts from nothing
                sftp.open(remote, OpenMode.Write, OpenMode.Create, OpenMode.Truncate).close();
            }
        }, sftp -> size[0] = sftp.stat(remote).getSize());
        return size[0];
    }

    /**
     * Reads {@code pieces} of {@code remote} into the same offsets of {@code local}, over up to {@code channels} channels.
     * Each channel reads ahead across its lane's pieces as long as they follow one another.
     */
    public void download(String remote, Path local, List<long[]> pieces, int channels, LongConsumer moved, PieceDone done)
            throws Exception {
        if (pieces.isEmpty()) {
            return;
        }
        long fileEnd = pieces.stream().mapToLong(p -> p[1]).max().orElse(0);
        run(pieces, channels, moved, (sftp, lane, counted) -> {
            try (CloseableHandle h = sftp.open(remote, EnumSet.of(OpenMode.Read));
                 FileChannel out = FileChannel.open(local, StandardOpenOption.WRITE, StandardOpenOption.CREATE);
                 SyncedPieces synced = new SyncedPieces(out, done, Thread.currentThread().getName())) {
                byte[] buf = new byte[8 * REQUEST];
                for (long[] first = lane.get(); first != null; first = lane.get()) {
                    try (Reads in = new Reads((AbstractSftpClient) sftp, limits, first, fileEnd, remote, h, lane)) {
                        for (long[] p = first; p != null; p = in.nextPiece()) {
                            long at = p[0];
                            while (at < p[1]) {
                                int n = in.read(buf, 0, (int) Math.min(buf.length, p[1] - at));
                                if (n < 0) {
                                    throw new IOException(remote + " ended at byte " + at + " before " + p[1]);
                                }
                                ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                                while (bb.hasRemaining()) {
                                    out.write(bb, at + bb.position());
                                }
                                at += n;
                                counted.accept(n);
                            }
                            // on disk, then told, behind the reads
                            synced.written(p);
                        }
                    }
                }
                synced.finish();
            }
        }, sftp -> { }, sftp -> { });
    }

    /**
     * One channel's reads, across the pieces of its lane that follow one another: up to a window of reads in
     * flight, asked for a piece only once the channel has taken it from its lane, so no piece is read by two
     * channels and nothing is read beyond what the channel took.
     */
    private static final class Reads extends SftpInputStreamAsync {
        private final Lane lane;
        private final java.util.ArrayDeque<long[]> taken = new java.util.ArrayDeque<>();
        private final long ahead;
        private long end;

        Reads(AbstractSftpClient client, SftpLimits limits, long[] first, long fileEnd, String path, CloseableHandle handle, Lane lane) {
            // a read asks for what fits the answer into whole SSH packets (a server splits a 32 KiB answer into two): one,
            // or several when the server says it answers reads that long
            super(client, limits.readLength(Math.min(REQUEST, client.getChannel().getLocalWindow().getPacketSize()), DATA_HEADER),
                    first[0], fileEnd, path, handle, false);
            this.lane = lane;
            this.end = first[1];
            // a window ahead (what one channel can move per round trip): a break costs at most that per channel, read again
            this.ahead = Math.max(REQUEST, client.getChannel().getLocalWindow().getMaxSize());
        }

        /** The piece after the one just read, when it follows on; else null (the stream ends there). */
        long[] nextPiece() {
            long[] p = taken.pollFirst();
            if (p == null && (p = lane.follow(end)) != null) {
                end = p[1];
            }
            return p;
        }

        @Override
        protected void sendRequests() throws IOException {
            AbstractSftpClient client = getClient();
            byte[] id = handle.getIdentifier();
            while (true) {
                while (requestOffset + ahead > end) {
                    long[] p = lane.follow(end);
                    if (p == null) {
                        break;
                    }
                    taken.add(p);
                    end = p[1];
                }
                if (requestOffset >= end || pendingReads.size() >= ahead / bufferSize) {
                    if (pendingReads.isEmpty() && requestOffset >= end) {
                        eofIndicator = true; // asked to read past what was taken: the stream ends (never happens)
                    }
                    return;
                }
                int length = (int) Math.min(bufferSize, end - requestOffset);
                org.apache.sshd.common.util.buffer.Buffer buf = client.getSession().createBuffer(
                        org.apache.sshd.common.SshConstants.SSH_MSG_CHANNEL_DATA, 23 + 16 + id.length);
                buf.rpos(23);
                buf.wpos(23);
                buf.putBytes(id);
                buf.putLong(requestOffset);
                buf.putUInt(length);
                int request = client.send(org.apache.sshd.sftp.common.SftpConstants.SSH_FXP_READ, buf);
                pendingReads.add(new org.apache.sshd.sftp.client.impl.SftpAckData(request, requestOffset, length));
                requestOffset += length;
            }
        }
    }

    /** A lane as one channel sees it. */
    private interface Lane {
        /** The next piece of its own, or null. */
        long[] own();

        /** The next piece of its own or, when none is left, one taken from the fullest lane; null when all are taken. */
        long[] get();

        long[] follow(long start);
    }

    private interface Worker {
        void run(SftpClient sftp, Lane lane, LongConsumer counted) throws Exception;
    }

    /** Something done on the transfer's first channel, before the pieces move or after all of them did. */
    private interface OnFirst {
        void run(SftpClient sftp) throws Exception;
    }

    /**
     * Opens SFTP channels as {@link ChannelGrowth} finds them worth it (up to {@code channels}, as many as the server
     * grants, at least one) and lets each move its lane of pieces; {@code before} and {@code after} run on the first
     * channel. The channels after the first open side by side while {@code before} runs. The first failure stops
     * them all and is thrown.
     */
    private void run(List<long[]> pieces, int channels, LongConsumer moved, Worker worker, OnFirst before, OnFirst after)
            throws Exception {
        int most = Math.max(1, Math.min(channels, pieces.size()));
        AtomicReference<Exception> failure = new AtomicReference<>();
        java.util.concurrent.atomic.AtomicLong count = new java.util.concurrent.atomic.AtomicLong();
        LongConsumer counted = n -> {
            count.addAndGet(n);
            moved.accept(n);
        };
        List<SftpClient> opened = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.atomic.AtomicInteger refused = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.CountDownLatch ready = new java.util.concurrent.CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        try {
            // a channel opens with two round trips (the channel, then the SFTP version): half of that is about the link's round trip
            long t0 = System.nanoTime();
            SftpClient first = SftpClientFactory.instance().createSftpClient(session);
            opened.add(first);
            long roundTrip = (System.nanoTime() - t0) / 2;
            org.apache.sshd.client.channel.ClientChannel channel = ((AbstractSftpClient) first).getClientChannel();
            ChannelGrowth growth = new ChannelGrowth(most, Math.min(channel.getRemoteWindow().getSize(), channel.getLocalWindow().getSize()),
                    roundTrip);
            Lanes lanes = new Lanes(pieces, pieces.isEmpty() ? 1 : growth.channels());
            Context c = new Context(lanes, failure, worker, counted, opened, refused, ready);
            if (!pieces.isEmpty()) {
                start(threads, c, first, 0);
                for (int i = 1; i < lanes.count(); i++) {
                    start(threads, c, null, i);
                }
            }
            try {
                limits = SftpLimits.of(first);
                before.run(first);
            } catch (Exception e) {
                failure.compareAndSet(null, e);
            } finally {
                ready.countDown();
            }
            long interval = Math.max(500_000_000L, 3 * roundTrip);
            long last = count.get();
            long lastAt = System.nanoTime();
            while (alive(threads)) {
                long until = lastAt + interval;
                for (Thread t : threads) {
                    long left = until - System.nanoTime();
                    if (left > 0) {
                        t.join(Math.max(1, left / 1_000_000));
                    }
                }
                long now = count.get();
                long nowAt = System.nanoTime();
                if (refused.get() > 0) {
                    growth.refused(refused.get());
                }
                if (!growth.settled() && failure.get() == null && lanes.left() > 0) {
                    int want = growth.measured((now - last) * 1e9 / Math.max(1, nowAt - lastAt));
                    while (lanes.count() < want) {
                        start(threads, c, null, lanes.add());
                    }
                }
                last = now;
                lastAt = nowAt;
            }
            if (failure.get() == null) {
                after.run(first);
            }
            LOG.debug("{} moved {} pieces over {} SFTP channels", where, pieces.size(), opened.size());
        } catch (InterruptedException e) {
            // the service is stopping: the transfer breaks like a dropped connection and resumes with the next start
            Thread.currentThread().interrupt();
            session.close(true);
            throw new java.io.InterruptedIOException("the SFTP transfer was interrupted: the service is stopping");
        } finally {
            ready.countDown();
            synchronized (opened) {
                for (SftpClient s : opened) {
                    try {
                        s.close();
                    } catch (IOException ignored) {
                        // the session is closed next anyway
                    }
                }
            }
        }
        if (failure.get() != null) {
            throw failure.get();
        }
    }

    /** What the channels of one transfer share. */
    private record Context(Lanes lanes, AtomicReference<Exception> failure, Worker worker, LongConsumer counted, List<SftpClient> opened,
            java.util.concurrent.atomic.AtomicInteger refused, java.util.concurrent.CountDownLatch ready) {
    }

    /**
     * Starts the channel of lane {@code laneIndex}: {@code sftp}, or one it opens itself (a refusal ends it quietly: the
     * others take its lane); it moves pieces once the first channel's {@code before} is done.
     */
    private void start(List<Thread> threads, Context c, SftpClient sftp, int laneIndex) {
        Lane lane = new Lane() {
            @Override
            public long[] own() {
                return c.failure().get() == null ? c.lanes().own(laneIndex) : null;
            }

            @Override
            public long[] get() {
                return c.failure().get() == null ? c.lanes().next(laneIndex) : null;
            }

            @Override
            public long[] follow(long start) {
                return c.failure().get() == null ? c.lanes().follow(laneIndex, start) : null;
            }
        };
        Thread t = new Thread(() -> {
            try {
                SftpClient mine = sftp;
                if (mine == null) {
                    try {
                        mine = SftpClientFactory.instance().createSftpClient(session);
                    } catch (IOException e) {
                        if (c.refused().compareAndSet(0, c.opened().size())) {
                            LOG.info("{} granted {} SFTP channels, not more: going on with those ({})", where, c.opened().size(), e.getMessage());
                        }
                        return;
                    }
                    synchronized (c.opened()) {
                        c.opened().add(mine);
                    }
                }
                c.ready().await();
                c.worker().run(mine, lane, c.counted());
            } catch (Exception e) {
                if (c.failure().compareAndSet(null, e)) {
                    // the others stop at their next piece; a channel stuck on a dead link is closed with the session
                    LOG.debug("SFTP channel failed: {}", e.toString());
                }
            }
        }, "sftp-" + where + "-" + laneIndex);
        t.setDaemon(true);
        threads.add(t);
        t.start();
    }

    private static boolean alive(List<Thread> threads) {
        for (Thread t : threads) {
            if (t.isAlive()) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() {
        try {
            session.close(true);
        } finally {
            client.stop();
        }
    }

    @Override
    public String toString() {
        return "ParallelSftp[" + where + "]";
    }
}

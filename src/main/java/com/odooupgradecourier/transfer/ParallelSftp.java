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
import java.util.concurrent.ConcurrentLinkedQueue;
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
import org.apache.sshd.sftp.client.impl.SftpOutputStreamAsync;
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
    /** The size of one SFTP read or write request: OpenSSH's, which every server accepts. */
    private static final int REQUEST = 32 * 1024;

    /** Called with each piece once all of it is on the other side. */
    public interface PieceDone {
        void done(long start, long end) throws Exception;
    }

    private final SshClient client;
    private final ClientSession session;
    private final String where;

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

    /** Empties (or creates) {@code remote}: a transfer with no piece recorded starts from nothing. */
    public void truncate(String remote) throws IOException {
        try (SftpClient sftp = SftpClientFactory.instance().createSftpClient(session);
             CloseableHandle h = sftp.open(remote, OpenMode.Write, OpenMode.Create, OpenMode.Truncate)) {
            LOG.debug("{} emptied", remote);
        }
    }

    /** Writes {@code pieces} of {@code local} to the same offsets of {@code remote}, over up to {@code channels} channels. */
    public void upload(Path local, String remote, List<long[]> pieces, int channels, LongConsumer moved, PieceDone done)
            throws Exception {
        run(pieces, channels, (sftp, piece) -> {
            // opened without truncating or appending: each channel writes its pieces at their offsets
            try (CloseableHandle h = sftp.open(remote, EnumSet.of(OpenMode.Write, OpenMode.Create));
                 FileChannel in = FileChannel.open(local, StandardOpenOption.READ)) {
                byte[] buf = new byte[8 * REQUEST];
                for (long[] p = piece.get(); p != null; p = piece.get()) {
                    try (SftpOutputStreamAsync out = new SftpOutputStreamAsync((AbstractSftpClient) sftp, REQUEST, remote, h, false)) {
                        out.setOffset(p[0]);
                        long at = p[0];
                        while (at < p[1]) {
                            int n = in.read(ByteBuffer.wrap(buf, 0, (int) Math.min(buf.length, p[1] - at)), at);
                            if (n < 0) {
                                throw new IOException(local + " is shorter than " + p[1] + " bytes: it changed while being sent");
                            }
                            out.write(buf, 0, n);
                            at += n;
                            moved.accept(n);
                        }
                    } // closing waits until the server acknowledged every write of the piece...
                    // ...but ends quietly, as if all were acknowledged, when the channel closed meanwhile
                    if (!sftp.isOpen() || !session.isOpen()) {
                        throw new IOException("the connection to " + where + " was lost while writing bytes " + p[0] + "-" + p[1]);
                    }
                    done.done(p[0], p[1]);
                }
            }
        });
    }

    /** Reads {@code pieces} of {@code remote} into the same offsets of {@code local}, over up to {@code channels} channels. */
    public void download(String remote, Path local, List<long[]> pieces, int channels, LongConsumer moved, PieceDone done)
            throws Exception {
        run(pieces, channels, (sftp, piece) -> {
            try (CloseableHandle h = sftp.open(remote, EnumSet.of(OpenMode.Read));
                 FileChannel out = FileChannel.open(local, StandardOpenOption.WRITE, StandardOpenOption.CREATE)) {
                byte[] buf = new byte[8 * REQUEST];
                for (long[] p = piece.get(); p != null; p = piece.get()) {
                    // reads ahead within the piece only (the stream's end is the piece's end)
                    try (SftpInputStreamAsync in = new SftpInputStreamAsync((AbstractSftpClient) sftp, REQUEST, p[0], p[1], remote, h, false)) {
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
                            moved.accept(n);
                        }
                    }
                    out.force(false);
                    done.done(p[0], p[1]);
                }
            }
        });
    }

    private interface Worker {
        void run(SftpClient sftp, java.util.function.Supplier<long[]> nextPiece) throws Exception;
    }

    /**
     * Opens up to {@code channels} SFTP channels (as many as the server grants, at least one) and lets each take
     * pieces until none is left. The first failure stops them all and is thrown.
     */
    private void run(List<long[]> pieces, int channels, Worker worker) throws Exception {
        if (pieces.isEmpty()) {
            return;
        }
        ConcurrentLinkedQueue<long[]> queue = new ConcurrentLinkedQueue<>(pieces);
        AtomicReference<Exception> failure = new AtomicReference<>();
        java.util.function.Supplier<long[]> next = () -> failure.get() == null ? queue.poll() : null;
        List<SftpClient> opened = new ArrayList<>();
        int wanted = Math.max(1, Math.min(channels, pieces.size()));
        for (int i = 0; i < wanted; i++) {
            try {
                opened.add(SftpClientFactory.instance().createSftpClient(session));
            } catch (IOException e) {
                if (opened.isEmpty()) {
                    throw e;
                }
                LOG.info("{} granted {} SFTP channels of the {} asked for: going on with those ({})", where, opened.size(), wanted,
                        e.getMessage());
                break;
            }
        }
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < opened.size(); i++) {
            SftpClient sftp = opened.get(i);
            Thread t = new Thread(() -> {
                try {
                    worker.run(sftp, next);
                } catch (Exception e) {
                    if (failure.compareAndSet(null, e)) {
                        // the others stop at their next piece; a channel stuck on a dead link is closed with the session
                        LOG.debug("SFTP channel failed: {}", e.toString());
                    }
                }
            }, "sftp-" + where + "-" + i);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        try {
            for (Thread t : threads) {
                t.join();
            }
        } catch (InterruptedException e) {
            // the service is stopping: the transfer breaks like a dropped connection and resumes with the next start
            Thread.currentThread().interrupt();
            session.close(true);
            throw new java.io.InterruptedIOException("the SFTP transfer was interrupted: the service is stopping");
        } finally {
            for (SftpClient s : opened) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // the session is closed next anyway
                }
            }
        }
        if (failure.get() != null) {
            throw failure.get();
        }
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

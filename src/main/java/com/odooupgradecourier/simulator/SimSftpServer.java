package com.odooupgradecourier.simulator;

import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.sshd.common.config.keys.AuthorizedKeyEntry;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;
import org.apache.sshd.common.file.virtualfs.VirtualFileSystemFactory;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.keyprovider.SimpleGeneratorHostKeyProvider;
import org.apache.sshd.server.session.ServerSession;
import org.apache.sshd.sftp.server.FileHandle;
import org.apache.sshd.sftp.server.SftpFileSystemAccessor;
import org.apache.sshd.sftp.server.SftpSubsystemFactory;
import org.apache.sshd.sftp.server.SftpSubsystemProxy;

/**
 * The simulator's SFTP server (Apache MINA SSHD): key authentication only, one user per request
 * ({@code user_<id>}) whose keys were posted to {@code request_sftp_access}. The user sees a folder
 * holding only {@code shared_file} (writable while the request is {@code draft}) and, once the request
 * is {@code done}, {@code upgraded_<shared_file>} (read only). Nothing else can be created.
 */
public final class SimSftpServer {
    private final UpgradePlatformSimulator platform;
    private final SimulatorConfig config;
    private final SshServer server = SshServer.setUpDefaultServer();
    private final VirtualFileSystemFactory homes = new VirtualFileSystemFactory();
    private final AtomicLong bytesWritten = new AtomicLong();
    private final AtomicLong bytesRead = new AtomicLong();
    private volatile long dropAfterBytes = -1;
    private volatile long dropEveryAfterBytes = -1;
    private volatile long denyWritesAfterBytes = -1;
    /** One write is held: the first to find this many bytes written takes it (channels write side by side). */
    private final AtomicLong holdWritesAfterBytes = new AtomicLong(-1);
    private final java.util.concurrent.atomic.AtomicInteger mostOpen = new java.util.concurrent.atomic.AtomicInteger();
    private static final org.apache.sshd.common.AttributeRepository.AttributeKey<java.util.concurrent.atomic.AtomicInteger> SESSION_OPEN =
            new org.apache.sshd.common.AttributeRepository.AttributeKey<>();
    private static final org.apache.sshd.common.AttributeRepository.AttributeKey<AtomicLong> SESSION_BYTES =
            new org.apache.sshd.common.AttributeRepository.AttributeKey<>();
    private static final org.apache.sshd.common.AttributeRepository.AttributeKey<AtomicLong> SESSION_WRITTEN =
            new org.apache.sshd.common.AttributeRepository.AttributeKey<>();
    /** Bytes written by each session, in the order the sessions first opened a file. */
    private final java.util.Queue<AtomicLong> writtenPerSession = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final java.util.concurrent.atomic.AtomicInteger refuseSubsystem = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger skipSubsystem = new java.util.concurrent.atomic.AtomicInteger();

    SimSftpServer(UpgradePlatformSimulator platform, SimulatorConfig config) {
        this.platform = platform;
        this.config = config;
    }

    void start() throws IOException {
        keysOnly(server, config, "sftp-host-key.pem");
        server.setPublickeyAuthenticator((user, key, session) -> {
            SimRequest r = requestOf(user);
            return r != null && r.sshKeys.stream().anyMatch(k -> KeyUtils.compareKeys(k, key));
        });
        server.setFileSystemFactory(homes);
        SftpSubsystemFactory sftp = new SftpSubsystemFactory.Builder()
                .withFileSystemAccessor(new SharedFileOnly())
                .build();
        server.setSubsystemFactories(List.of(new org.apache.sshd.server.subsystem.SubsystemFactory() {
            @Override
            public String getName() {
                return sftp.getName();
            }

            @Override
            public org.apache.sshd.server.command.Command createSubsystem(org.apache.sshd.server.channel.ChannelSession channel)
                    throws IOException {
                if (skipSubsystem.getAndUpdate(n -> Math.max(0, n - 1)) == 0
                        && refuseSubsystem.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                    throw new IOException("simulated failure: the sftp subsystem cannot be started");
                }
                return sftp.createSubsystem(channel);
            }
        }));
        server.start();
    }

    /**
     * A simulator's SSH server on simulator.bind-host and simulator.sftp-port: an EC host key kept in the storage folder
     * as {@code hostKeyFile}, public keys the only way in (the caller sets which).
     */
    static void keysOnly(SshServer server, SimulatorConfig config, String hostKeyFile) {
        server.setHost(config.bindHost);
        server.setPort(config.sftpPort);
        SimpleGeneratorHostKeyProvider hostKeys = new SimpleGeneratorHostKeyProvider(config.storageDir.resolve(hostKeyFile));
        hostKeys.setAlgorithm(KeyUtils.EC_ALGORITHM);
        hostKeys.setKeySize(256);
        server.setKeyPairProvider(hostKeys);
        server.setPasswordAuthenticator(null);
        server.setKeyboardInteractiveAuthenticator(null);
    }

    void stop() {
        stopQuietly(server);
    }

    /**
     * Stops a simulator's SSH server at once, whatever it says on the way: MINA's acceptor can still hand a finished
     * accept to its thread pool after the pool was shut down (apache/mina-sshd#409), which throws
     * IllegalStateException("Executor has been shut down") out of stop; the server is down either way.
     */
    static void stopQuietly(SshServer server) {
        try {
            server.stop(true);
        } catch (IOException | IllegalStateException e) {
            // stopping anyway
        }
    }

    int port() {
        return server.getPort();
    }

    /** Bytes written into shared files since start (a resumed upload adds only what was missing). */
    public long bytesWritten() {
        return bytesWritten.get();
    }

    /**
     * Bytes written by each session that opened a file, in the order they first did: what one client sent, apart from
     * what another (an instance killed while its writes were still queued here) had sent before.
     */
    public List<Long> bytesWrittenPerSession() {
        return writtenPerSession.stream().map(AtomicLong::get).toList();
    }

    /** The most files one connection had open at once since start (a transfer over several channels opens several). */
    public int mostOpenAtOnce() {
        return mostOpen.get();
    }

    /** Bytes read from upgraded files since start. */
    public long bytesRead() {
        return bytesRead.get();
    }

    /** Failure injection: the next transfer (either way) loses its connection after {@code bytes} bytes, once. */
    public void dropConnectionOnceAfter(long bytes) {
        dropAfterBytes = bytes;
    }

    /** Failure injection: every connection (either way) is lost after {@code bytes} bytes, a flaky link; negative ends it. */
    public void dropEveryConnectionAfter(long bytes) {
        dropEveryAfterBytes = bytes;
    }

    /**
     * Fault injection: the next upload that has written {@code bytes} bytes waits there (the hold point
     * {@code sftp-write}) until it is released with {@link UpgradePlatformSimulator#release(String)}.
     */
    public void holdWritesAfter(long bytes) {
        platform.holdAt("sftp-write");
        holdWritesAfterBytes.set(bytes);
    }

    /**
     * Failure injection: from now on, an upload is refused (permission denied, as for a request no longer in
     * draft) once it has written {@code bytes} bytes; a negative value ends it.
     */
    public void denyWritesAfter(long bytes) {
        denyWritesAfterBytes = bytes;
    }

    /**
     * Failure injection: after {@code skip} more sessions, the next {@code times} sessions authenticate but cannot
     * start the sftp subsystem (as a server whose sftp-server is missing or overloaded).
     */
    public void refuseSubsystem(int skip, int times) {
        skipSubsystem.set(skip);
        refuseSubsystem.set(times);
    }

    static List<PublicKey> parseAuthorizedKeys(String text) throws Exception {
        List<PublicKey> keys = new ArrayList<>();
        if (text == null) {
            return keys;
        }
        for (AuthorizedKeyEntry e : AuthorizedKeyEntry.readAuthorizedKeys(new StringReader(text), true)) {
            keys.add(e.resolvePublicKey(null, PublicKeyEntryResolver.FAILING));
        }
        return keys;
    }

    private SimRequest requestOf(String user) {
        if (user == null || !user.startsWith("user_")) {
            return null;
        }
        try {
            SimRequest r = platform.request(Long.parseLong(user.substring(5)));
            if (r != null) {
                homes.setUserHomeDir(user, r.dir.resolve("sftp"));
            }
            return r;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /**
     * What the user sees: while the request is draft, only its shared file (to upload, and resume by appending);
     * once done, only the upgraded file ("you can only download the upgraded database"); otherwise nothing.
     */
    private boolean visible(SimRequest r, String name) {
        String state = platform.state(r);
        return state.equals("draft") ? name.equals(r.sharedFile())
                : state.equals("done") && name.equals("upgraded_" + r.sharedFile());
    }

    /** Lets the user open only what {@link #visible} shows. */
    private final class SharedFileOnly implements SftpFileSystemAccessor {
        @Override
        public SeekableByteChannel openFile(SftpSubsystemProxy subsystem, FileHandle fileHandle, Path file, String handle,
                                            Set<? extends OpenOption> options, FileAttribute<?>... attrs) throws IOException {
            SimRequest r = requestOf(subsystem.getServerSession().getUsername());
            String name = file.getFileName() == null ? "" : file.getFileName().toString();
            boolean writing = options.contains(StandardOpenOption.WRITE) || options.contains(StandardOpenOption.APPEND);
            if (r == null) {
                throw new AccessDeniedException(name);
            }
            if (!visible(r, name) || writing && !name.equals(r.sharedFile())) {
                throw new AccessDeniedException(name, null, "while the request is draft only " + r.sharedFile()
                        + " can be written; once done, only upgraded_" + r.sharedFile() + " can be read");
            }
            SeekableByteChannel channel = SftpFileSystemAccessor.super.openFile(subsystem, fileHandle, file, handle, options, attrs);
            return new Counting(channel, subsystem.getServerSession());
        }

        @Override
        public java.nio.file.DirectoryStream<Path> openDirectory(SftpSubsystemProxy subsystem,
                                                                 org.apache.sshd.sftp.server.DirectoryHandle dirHandle, Path dir,
                                                                 String handle, java.nio.file.LinkOption... options) throws IOException {
            SimRequest r = requestOf(subsystem.getServerSession().getUsername());
            java.nio.file.DirectoryStream<Path> all = SftpFileSystemAccessor.super.openDirectory(subsystem, dirHandle, dir, handle, options);
            return new java.nio.file.DirectoryStream<>() {
                @Override
                public java.util.Iterator<Path> iterator() {
                    List<Path> shown = new ArrayList<>();
                    all.forEach(p -> {
                        if (r != null && p.getFileName() != null && visible(r, p.getFileName().toString())) {
                            shown.add(p);
                        }
                    });
                    return shown.iterator();
                }

                @Override
                public void close() throws IOException {
                    all.close();
                }
            };
        }

        @Override
        public void createDirectory(SftpSubsystemProxy subsystem, Path path) throws IOException {
            throw new AccessDeniedException(String.valueOf(path.getFileName()));
        }

        @Override
        public void removeFile(SftpSubsystemProxy subsystem, Path path, boolean isDirectory) throws IOException {
            throw new AccessDeniedException(String.valueOf(path.getFileName()));
        }

        @Override
        public void renameFile(SftpSubsystemProxy subsystem, Path oldPath, Path newPath, Collection<java.nio.file.CopyOption> opts)
                throws IOException {
            throw new AccessDeniedException(String.valueOf(oldPath.getFileName()));
        }

        @Override
        public void copyFile(SftpSubsystemProxy subsystem, Path src, Path dst, Collection<java.nio.file.CopyOption> opts)
                throws IOException {
            throw new AccessDeniedException(String.valueOf(src.getFileName()));
        }

        @Override
        public void createLink(SftpSubsystemProxy subsystem, Path link, Path existing, boolean symLink) throws IOException {
            throw new AccessDeniedException(String.valueOf(link.getFileName()));
        }
    }

    /**
     * Counts transferred bytes and, when told to, breaks the connection once after a number of them: the bytes of
     * the whole connection (every channel and file of the session), as a link that fails would.
     */
    private final class Counting implements SeekableByteChannel {
        private final SeekableByteChannel delegate;
        private final ServerSession session;
        private final AtomicLong sessionBytes;
        private final AtomicLong sessionWritten;

        Counting(SeekableByteChannel delegate, ServerSession session) {
            this.delegate = delegate;
            this.session = session;
            this.sessionBytes = session.computeAttributeIfAbsent(SESSION_BYTES, k -> new AtomicLong());
            this.sessionWritten = session.computeAttributeIfAbsent(SESSION_WRITTEN, k -> {
                AtomicLong written = new AtomicLong();
                writtenPerSession.add(written);
                return written;
            });
            int open = session.computeAttributeIfAbsent(SESSION_OPEN, k -> new java.util.concurrent.atomic.AtomicInteger()).incrementAndGet();
            mostOpen.accumulateAndGet(open, Math::max);
        }

        private void maybeDrop(int n) throws IOException {
            long transferred = sessionBytes.addAndGet(n);
            long limit = dropAfterBytes;
            long every = dropEveryAfterBytes;
            if (limit >= 0 && transferred >= limit || every >= 0 && transferred >= every) {
                dropAfterBytes = -1;
                session.close(true);
                throw new IOException("simulated connection loss after " + transferred + " bytes");
            }
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            int n = delegate.read(dst);
            if (n > 0) {
                bytesRead.addAndGet(n);
                maybeDrop(n);
            }
            return n;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            long transferred = sessionBytes.get();
            long deny = denyWritesAfterBytes;
            if (deny >= 0 && transferred >= deny) {
                throw new AccessDeniedException("shared file", null, "simulated: writing is no longer allowed");
            }
            long hold = holdWritesAfterBytes.get();
            if (hold >= 0 && transferred >= hold && holdWritesAfterBytes.compareAndSet(hold, -1)) {
                platform.pauseAt("sftp-write");
            }
            int n = delegate.write(src);
            bytesWritten.addAndGet(n);
            sessionWritten.addAndGet(n);
            maybeDrop(n);
            return n;
        }

        @Override
        public long position() throws IOException {
            return delegate.position();
        }

        @Override
        public SeekableByteChannel position(long p) throws IOException {
            delegate.position(p);
            return this;
        }

        @Override
        public long size() throws IOException {
            return delegate.size();
        }

        @Override
        public SeekableByteChannel truncate(long size) throws IOException {
            delegate.truncate(size);
            return this;
        }

        @Override
        public boolean isOpen() {
            return delegate.isOpen();
        }

        @Override
        public void close() throws IOException {
            if (delegate.isOpen()) {
                session.getAttribute(SESSION_OPEN).decrementAndGet();
            }
            delegate.close();
        }
    }
}

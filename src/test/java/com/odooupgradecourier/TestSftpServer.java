package com.odooupgradecourier;

import com.odooupgradecourier.transfer.SshKeys;
import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.security.PublicKey;
import java.nio.file.attribute.FileAttribute;
import java.util.List;
import java.util.Set;
import org.apache.sshd.common.config.keys.AuthorizedKeyEntry;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;
import org.apache.sshd.common.file.virtualfs.VirtualFileSystemFactory;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.keyprovider.SimpleGeneratorHostKeyProvider;
import org.apache.sshd.sftp.server.FileHandle;
import org.apache.sshd.sftp.server.SftpFileSystemAccessor;
import org.apache.sshd.sftp.server.SftpSubsystemFactory;
import org.apache.sshd.sftp.server.SftpSubsystemProxy;

/** A second real SFTP server (MINA SSHD), as a delivery target: one user, one key, a root folder. */
public final class TestSftpServer implements AutoCloseable {
    public final Path root;
    public final Path privateKey;
    public final Path knownHosts;
    public final String user = "deliver";
    private final Path dir;
    private final PublicKey allowed;
    private SshServer server;
    private final java.util.concurrent.atomic.AtomicInteger open = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger mostOpen = new java.util.concurrent.atomic.AtomicInteger();

    /** The most channels that were open at once (of all sessions) since the last call; then counts anew. */
    public int mostOpenAtOnce() {
        return mostOpen.getAndSet(open.get());
    }

    public TestSftpServer(Path dir) throws Exception {
        root = Files.createDirectories(dir.resolve("root"));
        SshKeys keys = SshKeys.generate("delivery-test");
        privateKey = Files.write(dir.resolve("id_ed25519"), keys.privateKey());
        Files.setPosixFilePermissions(privateKey, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        this.dir = dir;
        allowed = AuthorizedKeyEntry.readAuthorizedKeys(new StringReader(keys.publicKey()), true).get(0)
                .resolvePublicKey(null, PublicKeyEntryResolver.FAILING);
        SimpleGeneratorHostKeyProvider hostKeys = listen(0);
        PublicKey hostKey = hostKeys.loadKeys(null).iterator().next().getPublic();
        knownHosts = Files.writeString(dir.resolve("known_hosts"),
                "[127.0.0.1]:" + port() + " " + PublicKeyEntry.toString(hostKey) + "\n", StandardCharsets.US_ASCII);
    }

    private SimpleGeneratorHostKeyProvider listen(int port) throws Exception {
        server = SshServer.setUpDefaultServer();
        server.setHost("127.0.0.1");
        server.setPort(port);
        SimpleGeneratorHostKeyProvider hostKeys = new SimpleGeneratorHostKeyProvider(dir.resolve("host-key.pem"));
        hostKeys.setAlgorithm(KeyUtils.EC_ALGORITHM);
        server.setKeyPairProvider(hostKeys);
        server.setPublickeyAuthenticator((u, key, session) -> user.equals(u) && KeyUtils.compareKeys(allowed, key));
        server.setPasswordAuthenticator(null);
        server.setKeyboardInteractiveAuthenticator(null);
        server.setFileSystemFactory(new VirtualFileSystemFactory(root));
        server.setSubsystemFactories(List.of(new SftpSubsystemFactory.Builder().withFileSystemAccessor(new Refusing()).build()));
        server.addChannelListener(new org.apache.sshd.common.channel.ChannelListener() {
            @Override
            public void channelOpenSuccess(org.apache.sshd.common.channel.Channel channel) {
                mostOpen.accumulateAndGet(open.incrementAndGet(), Math::max);
            }

            @Override
            public void channelClosed(org.apache.sshd.common.channel.Channel channel, Throwable reason) {
                open.decrementAndGet();
            }
        });
        server.start();
        return hostKeys;
    }

    private volatile long refuseWritesFrom = -1;
    private final java.util.concurrent.atomic.AtomicInteger longestWrite = new java.util.concurrent.atomic.AtomicInteger();

    /** The most bytes one SFTP write carried since start. */
    public int longestWrite() {
        return longestWrite.get();
    }

    /** From now on a write at or past byte {@code offset} of a file is refused (permission denied, as a full quota); negative ends it. */
    public void refuseWritesFrom(long offset) {
        refuseWritesFrom = offset;
    }

    /** Files as they are, but writes past {@link #refuseWritesFrom(long)} are refused. */
    private final class Refusing implements SftpFileSystemAccessor {
        @Override
        public SeekableByteChannel openFile(SftpSubsystemProxy subsystem, FileHandle fileHandle, Path file, String handle,
                                            Set<? extends OpenOption> options, FileAttribute<?>... attrs) throws IOException {
            SeekableByteChannel channel = SftpFileSystemAccessor.super.openFile(subsystem, fileHandle, file, handle, options, attrs);
            return new SeekableByteChannel() {
                @Override
                public int write(ByteBuffer src) throws IOException {
                    long from = refuseWritesFrom;
                    if (from >= 0 && channel.position() + src.remaining() > from) {
                        throw new AccessDeniedException(file.getFileName().toString(), null, "test: writing is no longer allowed");
                    }
                    longestWrite.accumulateAndGet(src.remaining(), Math::max);
                    return channel.write(src);
                }

                @Override
                public int read(ByteBuffer dst) throws IOException {
                    return channel.read(dst);
                }

                @Override
                public long position() throws IOException {
                    return channel.position();
                }

                @Override
                public SeekableByteChannel position(long p) throws IOException {
                    channel.position(p);
                    return this;
                }

                @Override
                public long size() throws IOException {
                    return channel.size();
                }

                @Override
                public SeekableByteChannel truncate(long size) throws IOException {
                    channel.truncate(size);
                    return this;
                }

                @Override
                public boolean isOpen() {
                    return channel.isOpen();
                }

                @Override
                public void close() throws IOException {
                    channel.close();
                }
            };
        }
    }

    /** The server goes away (a target that is down): connections are refused until {@link #restart()}. */
    public void stop() throws Exception {
        port = server.getPort();
        server.stop(true);
    }

    /** The server comes back on the same port with the same host key. */
    public void restart() throws Exception {
        listen(port);
    }

    private int port;

    public int port() {
        return server.isStarted() ? server.getPort() : port;
    }

    /** The delivery URI of this server, verifying its host key against {@code knownHostsFile}. */
    public String uri(String folder, Path knownHostsFile) {
        return "sftp://" + user + "@127.0.0.1:" + port() + "/" + folder + "?privateKeyFile=" + privateKey
                + "&knownHostsFile=" + knownHostsFile + "&strictHostKeyChecking=yes&useUserKnownHostsFile=false";
    }

    @Override
    public void close() throws Exception {
        server.stop(true);
    }
}

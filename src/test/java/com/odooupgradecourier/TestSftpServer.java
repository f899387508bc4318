package com.odooupgradecourier;

import com.odooupgradecourier.transfer.SshKeys;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.List;
import org.apache.sshd.common.config.keys.AuthorizedKeyEntry;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;
import org.apache.sshd.common.file.virtualfs.VirtualFileSystemFactory;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.keyprovider.SimpleGeneratorHostKeyProvider;
import org.apache.sshd.sftp.server.SftpSubsystemFactory;

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
        server.setSubsystemFactories(List.of(new SftpSubsystemFactory()));
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

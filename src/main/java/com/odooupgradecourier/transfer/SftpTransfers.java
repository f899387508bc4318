package com.odooupgradecourier.transfer;

import com.jcraft.jsch.ChannelSftp;
import com.jcraft.jsch.HostKey;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.Session;
import com.jcraft.jsch.SftpATTRS;
import com.jcraft.jsch.SftpException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.apache.camel.ExchangeProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the routes cannot say about SFTP transfers with the platform: the per-request SSH key pair, host
 * keys (strict, or trusted on first use), the size of what the platform already holds (to resume an
 * upload by appending), and a download that resumes from the bytes already on disk.
 * The upload itself is camel-ftp's {@code sftp:} producer, appending.
 */
public class SftpTransfers {
    private static final Logger LOG = LoggerFactory.getLogger("courier");
    private static final int TIMEOUT_MS = 30_000;
    /** Read requests in flight at once (JSch's default, 16, leaves most of the bandwidth unused). */
    private static final int BULK_REQUESTS = 256;

    private final Path keysDir;
    private final Path knownHosts;
    private final boolean trustOnFirstUse;
    private final String transfer;
    private final long threshold;

    public SftpTransfers(Path dataDir, String configuredKnownHosts, String transfer, String threshold) {
        this.transfer = transfer.trim().toLowerCase(java.util.Locale.ROOT);
        if (!List.of("auto", "https", "sftp").contains(this.transfer)) {
            throw new IllegalArgumentException("upgrade.transfer must be auto, https or sftp, not '" + transfer + "'");
        }
        this.threshold = Sizes.parse(threshold);
        this.keysDir = dataDir.resolve("keys");
        this.trustOnFirstUse = configuredKnownHosts == null || configuredKnownHosts.isBlank();
        this.knownHosts = trustOnFirstUse ? dataDir.resolve("known_hosts") : Path.of(configuredKnownHosts).toAbsolutePath();
        if (trustOnFirstUse) {
            LOG.warn("upgrade.sftp.known-hosts is not set: the platform's SFTP host keys are trusted on first use, recorded in {} "
                    + "and verified on every later connection", knownHosts);
        }
    }

    /** Whether a dump of this size goes over SFTP ({@code upgrade.transfer}, {@code upgrade.sftp-threshold}). */
    public boolean useSftp(@ExchangeProperty("dumpSize") long size) {
        return transfer.equals("sftp") || (transfer.equals("auto") && size > threshold);
    }

    /** The known_hosts file every SFTP connection verifies against. */
    public String knownHostsFile() {
        return knownHosts.toString();
    }

    /**
     * The request's own ed25519 key pair (made once, kept under the data folder readable by the owner
     * only): sets {@code privateKeyFile} and returns the public key as an authorized_keys line.
     */
    public String publicKey(@ExchangeProperty("dumpId") String dumpId, org.apache.camel.Exchange exchange) throws Exception {
        Path dir = keysDir.resolve(dumpId);
        Path prv = dir.resolve("id_ed25519");
        Path pub = dir.resolve("id_ed25519.pub");
        if (!Files.exists(prv) || !Files.exists(pub)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            SshKeys keys = SshKeys.generate("odoo-upgrade-courier-" + dumpId);
            Files.deleteIfExists(prv);
            Files.write(Files.createFile(prv, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))),
                    keys.privateKey());
            Files.writeString(pub, keys.publicKey());
        }
        exchange.setProperty("privateKeyFile", prv.toString());
        return Files.readString(pub);
    }

    /** Deletes the request's key pair once the request is finished (delivered or failed). */
    public void deleteKeys(@ExchangeProperty("dumpId") String dumpId) throws IOException {
        Path dir = keysDir.resolve(dumpId);
        if (Files.isDirectory(dir)) {
            for (String f : List.of("id_ed25519", "id_ed25519.pub")) {
                Files.deleteIfExists(dir.resolve(f));
            }
            Files.deleteIfExists(dir);
        }
    }

    /**
     * Trust on first use: when no known_hosts file was configured and this host has no key recorded
     * yet, records the key it presents now (with a warning). Every connection then checks strictly.
     */
    public void trust(@ExchangeProperty("sftpHost") String host, @ExchangeProperty("sftpPort") int port) throws Exception {
        if (!trustOnFirstUse) {
            return;
        }
        String name = port == 22 ? host : "[" + host + "]:" + port;
        synchronized (this) {
            if (Files.exists(knownHosts) && Files.readAllLines(knownHosts).stream().anyMatch(l -> l.startsWith(name + " "))) {
                return;
            }
            JSch jsch = new JSch();
            Session session = jsch.getSession("host-key-probe", host, port);
            session.setConfig("StrictHostKeyChecking", "no");
            session.setConfig("PreferredAuthentications", "none");
            try {
                session.connect(TIMEOUT_MS);
            } catch (JSchException expected) {
                // no authentication is offered: the key exchange, which is all we need, is done
            } finally {
                session.disconnect();
            }
            HostKey key = session.getHostKey();
            if (key == null) {
                throw new IOException("could not read the SFTP host key of " + name);
            }
            Files.createDirectories(knownHosts.getParent());
            Files.writeString(knownHosts, name + " " + key.getType() + " " + key.getKey() + "\n", StandardCharsets.US_ASCII,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            LOG.warn("Trusting the SFTP host key of {} on first use ({} {}), recorded in {}; set upgrade.sftp.known-hosts to "
                    + "verify it against a file you trust", name, key.getType(), key.getFingerPrint(jsch), knownHosts);
        }
    }

    /** The size of {@code sharedFile} on the platform's SFTP server; 0 when it does not exist yet. */
    public long remoteSize(@ExchangeProperty("sftpHost") String host, @ExchangeProperty("sftpPort") int port,
                           @ExchangeProperty("sftpUser") String user, @ExchangeProperty("privateKeyFile") String privateKey,
                           @ExchangeProperty("remoteFile") String remoteFile) throws Exception {
        return withSftp(host, port, user, privateKey, sftp -> {
            try {
                return sftp.stat(remoteFile).getSize();
            } catch (SftpException e) {
                if (e.id == ChannelSftp.SSH_FX_NO_SUCH_FILE) {
                    return 0L;
                }
                throw new IOException("cannot read the size of " + remoteFile + ": " + e.getMessage(), e);
            }
        });
    }

    /**
     * The local dump from byte {@code offset} on: what an append must still send. Fails when the remote
     * holds more than the local file (not a prefix of this dump).
     */
    public InputStream openFrom(@ExchangeProperty("dumpPath") String dumpPath, @ExchangeProperty("remoteSize") long offset)
            throws IOException {
        long size = Files.size(Path.of(dumpPath));
        if (offset > size) {
            throw new IllegalStateException("the platform holds " + offset + " bytes but the dump has only " + size
                    + ": the remote file is not this dump");
        }
        InputStream in = Files.newInputStream(Path.of(dumpPath));
        in.skipNBytes(offset);
        return in;
    }

    /**
     * Downloads {@code remoteFile} to {@code target}, resuming from the bytes already in
     * {@code target}.part; the complete file is then renamed to {@code target}.
     */
    public void download(@ExchangeProperty("sftpHost") String host, @ExchangeProperty("sftpPort") int port,
                         @ExchangeProperty("sftpUser") String user, @ExchangeProperty("privateKeyFile") String privateKey,
                         @ExchangeProperty("remoteFile") String remoteFile, @ExchangeProperty("archivePath") String target)
            throws Exception {
        Path part = Path.of(target + ".part");
        Files.createDirectories(part.getParent());
        withSftp(host, port, user, privateKey, sftp -> {
            try {
                long total = sftp.stat(remoteFile).getSize();
                long have = Files.exists(part) ? Files.size(part) : 0;
                if (have > total) {
                    Files.delete(part);
                    have = 0;
                }
                if (have > 0) {
                    LOG.info("{}: resuming the download at byte {} of {}", remoteFile, have, total);
                }
                try (InputStream in = sftp.get(remoteFile, null, have);
                     OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
                    in.transferTo(out);
                }
                if (Files.size(part) != total) {
                    throw new IOException("download of " + remoteFile + " incomplete: " + Files.size(part) + " of " + total + " bytes");
                }
                Downloads.verifyComplete(part);
                Files.move(part, Path.of(target), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                return null;
            } catch (SftpException e) {
                throw new IOException("SFTP download of " + remoteFile + " failed: " + e.getMessage(), e);
            }
        });
    }

    private interface SftpWork<T> {
        T run(ChannelSftp sftp) throws Exception;
    }

    /** One SFTP session to the platform (strict host key, the request's key), closed whatever happens. */
    private <T> T withSftp(String host, int port, String user, String privateKey, SftpWork<T> work) throws Exception {
        Session session = connect(host, port, user, privateKey);
        try {
            ChannelSftp sftp = (ChannelSftp) session.openChannel("sftp");
            sftp.setBulkRequests(BULK_REQUESTS);
            try {
                sftp.connect(TIMEOUT_MS);
            } catch (JSchException e) {
                throw new IOException("the SFTP server " + host + ":" + port + " accepted the login but could not start its sftp "
                        + "subsystem (" + e.getMessage() + ")", e);
            }
            try {
                return work.run(sftp);
            } finally {
                sftp.disconnect();
            }
        } finally {
            session.disconnect();
        }
    }

    private Session connect(String host, int port, String user, String privateKey) throws JSchException {
        JSch jsch = new JSch();
        jsch.setKnownHosts(knownHosts.toString());
        jsch.addIdentity(privateKey);
        Session session = jsch.getSession(user, host, port);
        session.setConfig("StrictHostKeyChecking", "yes");
        session.setConfig("PreferredAuthentications", "publickey");
        session.connect(TIMEOUT_MS);
        return session;
    }
}

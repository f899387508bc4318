package com.odooupgradecourier.transfer;

import com.jcraft.jsch.HostKey;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.Session;
import com.odooupgradecourier.transfer.Progress;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the routes cannot say about SFTP transfers with the platform: the per-request SSH key pair, host
 * keys (strict, or trusted on first use), and the transfers themselves: several channels at once, each moving
 * its own pieces of the file ({@link ParallelSftp}), every piece recorded once it is complete on the other side,
 * so a broken transfer resumes with the pieces not recorded.
 */
public class SftpTransfers {
    private static final Logger LOG = LoggerFactory.getLogger("courier");
    private static final int TIMEOUT_MS = 30_000;

    private final Path keysDir;
    private final Path knownHosts;
    private final boolean trustOnFirstUse;
    private final String transfer;
    private final long threshold;
    private final int channels;
    private final UploadPieces pieces;
    private final Progress progress;
    /** Transfers whose last attempts broke before any piece was complete, and how many times in a row. */
    private final java.util.Map<String, Integer> stalls = new java.util.concurrent.ConcurrentHashMap<>();
    private static final long MIN_PIECE = 256 * 1024;

    public SftpTransfers(Path dataDir, String configuredKnownHosts, String transfer, String threshold, String channels, UploadPieces pieces,
                         Progress progress) {
        this(dataDir, configuredKnownHosts, transfer, threshold, channels, pieces, progress, true);
    }

    /** @param sftpUsed whether the platform's SFTP is used at all (not with upgrade.api = jsonrpc, which uses only the keys) */
    public SftpTransfers(Path dataDir, String configuredKnownHosts, String transfer, String threshold, String channels, UploadPieces pieces,
                         Progress progress, boolean sftpUsed) {
        boolean warnTrustOnFirstUse = sftpUsed;
        this.channels = channels.trim().matches("[0-9]{1,2}") ? Integer.parseInt(channels.trim()) : 0;
        if (this.channels < 1 || this.channels > 16) {
            throw new IllegalArgumentException("upgrade.sftp.channels must be a whole number between 1 and 16, not '" + channels + "'");
        }
        this.pieces = pieces;
        this.progress = progress;
        this.transfer = transfer.trim().toLowerCase(java.util.Locale.ROOT);
        if (!List.of("auto", "https", "sftp").contains(this.transfer)) {
            throw new IllegalArgumentException("upgrade.transfer must be auto, https or sftp, not '" + transfer + "'");
        }
        this.threshold = Sizes.parse(threshold);
        this.keysDir = dataDir.resolve("keys");
        this.trustOnFirstUse = configuredKnownHosts == null || configuredKnownHosts.isBlank();
        this.knownHosts = trustOnFirstUse ? dataDir.resolve("known_hosts") : Path.of(configuredKnownHosts).toAbsolutePath();
        if (trustOnFirstUse && warnTrustOnFirstUse) {
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
            for (String f : List.of("id_ed25519", "id_ed25519.pub", "known_hosts")) {
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

    /**
     * Sends the dump to {@code remoteFile}: the pieces the platform has not acknowledged yet for this request, over
     * {@code upgrade.sftp.channels} channels of one session, each piece recorded in the store as soon as it is
     * acknowledged. The size of the remote file is never trusted (the pieces in flight when a transfer broke left
     * holes): with no piece recorded the remote file is emptied and the upload starts from the first byte. Then sets
     * {@code remoteSize}, what the server says it holds, read on the same session.
     */
    public void upload(Exchange exchange) throws Exception {
        String dumpId = exchange.getProperty("dumpId", String.class);
        long requestId = exchange.getProperty("requestId", Long.class);
        Path dump = Path.of(exchange.getProperty("dumpPath", String.class));
        String remote = exchange.getProperty("remoteFile", String.class);
        long size = Files.size(dump);
        Ranges done = pieces.acknowledged(dumpId, requestId);
        String key = "upload " + dumpId;
        List<long[]> missing = done.missing(size, pieceSize(key, size));
        String name = exchange.getProperty("fileName", String.class);
        java.util.concurrent.atomic.AtomicInteger recorded = new java.util.concurrent.atomic.AtomicInteger();
        try (ParallelSftp sftp = connect(exchange.getProperty("sftpHost", String.class), exchange.getProperty("sftpPort", Integer.class),
                exchange.getProperty("sftpUser", String.class), exchange.getProperty("privateKeyFile", String.class));
             Progress.Counter moved = progress.count(dumpId, name, "uploading", size, done.bytes())) {
            if (done.bytes() > 0) {
                LOG.info("{}: the platform acknowledged {} of {} bytes: sending the other {} pieces", name, done.bytes(), size, missing.size());
            }
            long remoteSize = sftp.upload(dump, remote, done.bytes() == 0, missing, channels, moved, (start, end) -> {
                pieces.acknowledged(dumpId, requestId, start, end);
                recorded.incrementAndGet();
            });
            stalls.remove(key);
            exchange.setProperty("remoteSize", remoteSize);
        } catch (Exception e) {
            stalled(key, recorded.get());
            throw e;
        }
    }

    /**
     * The piece size of a transfer: {@link Ranges#blockSize}, halved after every attempt that broke before any piece
     * was complete (a link that breaks more often than the pieces in flight would otherwise never get anywhere).
     */
    private long pieceSize(String transfer, long size) {
        long block = Ranges.blockSize(size, channels) >> stalls.getOrDefault(transfer, 0);
        return Math.max(MIN_PIECE, block);
    }

    private void stalled(String transfer, int piecesRecorded) {
        if (piecesRecorded == 0) {
            stalls.merge(transfer, 1, (a, b) -> Math.min(a + b, 8));
        }
    }

    /**
     * Downloads {@code remoteFile} to {@code target} over {@code upgrade.sftp.channels} channels, each piece written at
     * its offset of {@code target}.part and recorded in {@code target}.part.pieces once on disk; after a break only the
     * pieces not recorded are read again. The complete file is then renamed to {@code target}.
     */
    public void download(@ExchangeProperty("sftpHost") String host, @ExchangeProperty("sftpPort") int port,
                         @ExchangeProperty("sftpUser") String user, @ExchangeProperty("privateKeyFile") String privateKey,
                         @ExchangeProperty("remoteFile") String remoteFile, @ExchangeProperty("archivePath") String target,
                         @ExchangeProperty("dumpId") String dumpId, @ExchangeProperty("fileName") String name) throws Exception {
        Path part = Path.of(target + ".part");
        Path record = Path.of(target + ".part.pieces");
        Files.createDirectories(part.getParent());
        try (ParallelSftp sftp = connect(host, port, user, privateKey)) {
            long total = sftp.size(remoteFile);
            Ranges done = new Ranges();
            if (Files.exists(part) && Files.exists(record)) {
                try {
                    done = Ranges.parse(Files.readString(record));
                } catch (IllegalArgumentException e) {
                    LOG.warn("{}: the record of the partial download is unreadable ({}): downloading it again", name, e.getMessage());
                }
            }
            if (done.bytes() == 0 || Files.size(part) > total) {
                // a partial file without a record of its pieces (or longer than the archive) is not trusted
                Files.deleteIfExists(part);
                Files.deleteIfExists(record);
                done = new Ranges();
            } else {
                LOG.info("{}: resuming the download: {} of {} bytes are on disk", name, done.bytes(), total);
            }
            com.odooupgradecourier.support.NotEnoughSpaceException.require(part.getParent(), total - done.bytes() + (64L << 20),
                    "the upgraded archive");
            Ranges onDisk = done;
            String key = "download " + dumpId;
            java.util.concurrent.atomic.AtomicInteger recorded = new java.util.concurrent.atomic.AtomicInteger();
            try (Progress.Counter moved = progress.count(dumpId, name, "downloading", total, done.bytes())) {
                sftp.download(remoteFile, part, done.missing(total, pieceSize(key, total)), channels, moved, (start, end) -> {
                    synchronized (onDisk) {
                        onDisk.add(start, end);
                        Path tmp = Path.of(record + ".tmp");
                        Files.writeString(tmp, onDisk.toString());
                        Files.move(tmp, record, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                    }
                    recorded.incrementAndGet();
                });
                stalls.remove(key);
            } catch (Exception e) {
                stalled(key, recorded.get());
                throw e;
            }
            if (!Files.exists(part)) {
                Files.createFile(part); // an empty archive: nothing was read
            }
            if (Files.size(part) != total || onDisk.bytes() != total) {
                throw new IOException("download of " + remoteFile + " incomplete: " + onDisk.bytes() + " of " + total + " bytes");
            }
            Downloads.verifyComplete(part);
            Files.move(part, Path.of(target), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Files.deleteIfExists(record);
        }
    }

    private ParallelSftp connect(String host, int port, String user, String privateKey) throws Exception {
        return ParallelSftp.connect(host, port, user, Path.of(privateKey), knownHosts, Duration.ofMillis(TIMEOUT_MS));
    }
}

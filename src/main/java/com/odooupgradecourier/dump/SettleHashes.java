package com.odooupgradecourier.dump;

import com.odooupgradecourier.support.FileStamp;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.camel.Exchange;
import org.apache.camel.component.file.GenericFile;
import org.apache.camel.component.file.GenericFileOperations;
import org.apache.camel.component.file.strategy.FileChangedExclusiveReadLockStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The drop folder's read lock: a file is taken once it stayed unchanged for {@code courier.settle-time} (as Camel's
 * {@code readLock=changed} with {@code readLockMinAge} does), and the wait is put to use: once the file is seen
 * unchanged between two looks, its sha256 is computed while it settles, so admitting it does not read it again.
 *
 * <p>A hash is kept only for the file exactly as it was read (the same stamp before and after the read), and given
 * at admission to the same file (device and inode) with the same size and modification time. The service's own
 * renames (into the drop folder's staging area, into custody) change the file's change time as a write does, so
 * such a hash is provisional ({@link Sha256#whileSettling}): it serves the duplicate check, and the bytes sent are
 * checked against it (an HTTPS upload hashes what it sends; an SFTP or rsync upload reads the file for its hash
 * first). A file read again when admitted gets a hash that is not.
 */
public class SettleHashes extends FileChangedExclusiveReadLockStrategy {
    private static final Logger LOG = LoggerFactory.getLogger(SettleHashes.class);
    /** Files hashed but not admitted (a file removed from the drop folder before it was taken) are forgotten past this. */
    private static final int KEPT = 1000;

    private static final Logger LOG_COURIER = LoggerFactory.getLogger("courier");
    /** A hash made while a file settled, with the file's stamp when it was read. */
    private record Kept(FileStamp stamp, String hex) {
    }

    /** The hashes made while files settled, by device and inode. */
    private final Map<String, Kept> hashes = new LinkedHashMap<>();
    /** The links to nothing already said (each is said once). */
    private final java.util.Set<String> danglingSaid = new java.util.LinkedHashSet<>();
    /** How each file looked when it was taken as settled, by device and inode (a move in the same file system keeps them). */
    private final Map<String, FileStamp> settled = new LinkedHashMap<>();

    public SettleHashes(long settleMillis, long checkIntervalMillis, long timeoutMillis) {
        setMinAge(settleMillis);
        setCheckInterval(checkIntervalMillis);
        setTimeout(timeoutMillis);
        setMinLength(0);
        setMarkerFiler(false);
    }

    @Override
    public boolean acquireExclusiveReadLock(GenericFileOperations<File> operations, GenericFile<File> file, Exchange exchange)
            throws Exception {
        Path path = file.getFile().toPath();
        if (Files.isSymbolicLink(path) && !Files.exists(path)) {
            // a link to nothing cannot even be moved by the file consumer (it asks whether the target exists): it is not
            // taken, said once, and listed by GET /drop
            danglingLink(path);
            return false;
        }
        long start = System.currentTimeMillis();
        FileStamp before = null;
        while (true) {
            FileStamp now;
            try {
                now = FileStamp.of(path);
            } catch (NoSuchFileException gone) {
                return false;
            }
            if (now.size() >= getMinLength() && now.modified().toMillis() <= System.currentTimeMillis() - getMinAge()) {
                remember(now);
                return true;
            }
            if (now.equals(before) && now.plain() && !known(now)) {
                // unchanged since the last look: likely complete, hashed while it settles (kept only if it stays unchanged)
                hash(path, now);
                if (known(now)) {
                    continue; // looked at again at once: it may be old enough now
                }
                // unreadable, or changed while being read: looked at again after the interval, as any file
            }
            before = now;
            if (getTimeout() > 0 && System.currentTimeMillis() - start > getTimeout()) {
                LOG.debug("{} is still changing after {} ms: looked at again at the next scan", path, getTimeout());
                return false;
            }
            // looked at again after the interval, or as soon as it is old enough if that is sooner
            long oldEnough = now.modified().toMillis() + getMinAge() - System.currentTimeMillis();
            Thread.sleep(Math.max(1, Math.min(getCheckInterval(), oldEnough)));
        }
    }

    private synchronized void danglingLink(Path path) {
        if (danglingSaid.add(path.getFileName().toString())) {
            if (danglingSaid.size() > KEPT) {
                danglingSaid.remove(danglingSaid.iterator().next());
            }
            LOG_COURIER.warn("{}: a link to a file that is not there: not taken (drop the dump itself, not a link to it)",
                    path.getFileName());
        }
    }

    private synchronized boolean known(FileStamp seen) {
        Kept kept = hashes.get(seen.fileKey());
        return kept != null && kept.stamp().equals(seen);
    }

    private void hash(Path path, FileStamp seen) throws IOException {
        String hex;
        try {
            reads.incrementAndGet();
            hex = sha256(path);
        } catch (IOException unreadable) {
            // gone, or not readable by the service: admitting it says so (with what to do)
            LOG.debug("{} not hashed while settling: {}", path, unreadable.toString());
            return;
        }
        if (seen.equals(FileStamp.of(path))) {
            synchronized (this) {
                hashes.put(seen.fileKey(), new Kept(seen, hex));
                while (hashes.size() > KEPT) {
                    hashes.remove(hashes.keySet().iterator().next());
                }
            }
        }
    }

    /**
     * A dump's sha256, and whether it was read while the dump settled and the file changed stamp since (its change
     * time, which the service's renames move too): then it is provisional, and the bytes sent are checked against it.
     */
    public record Sha256(String hex, boolean whileSettling) {
    }

    /**
     * The sha256 of {@code file}: the one computed while it settled when the file is still the same file with the same
     * size and modification time (provisional when its change time moved since), otherwise read now. Given once.
     */
    public Sha256 sha256Of(Path file) throws IOException {
        FileStamp now = FileStamp.of(file);
        Kept kept;
        synchronized (this) {
            kept = hashes.remove(now.fileKey());
        }
        if (kept != null && !kept.stamp().contentMayDiffer(now)) {
            return new Sha256(kept.hex(), !kept.stamp().equals(now));
        }
        return new Sha256(sha256Now(file), false);
    }

    /** The sha256 of {@code file}, read now (counted with the other whole reads). */
    public String sha256Now(Path file) throws IOException {
        reads.incrementAndGet();
        return sha256(file);
    }

    private synchronized void remember(FileStamp taken) {
        Kept kept = hashes.get(taken.fileKey());
        if (kept != null && !kept.stamp().equals(taken)) {
            // not the file that was hashed (a file since gone whose inode another one got, with its modification time set
            // to the same): nothing of the kept hash may be given to it
            hashes.remove(taken.fileKey());
        }
        settled.put(taken.fileKey(), taken);
        while (settled.size() > KEPT) {
            settled.remove(settled.keySet().iterator().next());
        }
    }

    /**
     * How a file (by device and inode) looked when it was taken as settled, forgotten once asked; null when it was not
     * seen here (it came from another file system, or before a restart).
     */
    public synchronized FileStamp settledAs(String fileKey) {
        return settled.remove(fileKey);
    }

    /** How many times this lock read a whole file (while settling, or when asked for a hash it did not keep). */
    final java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();

    /** How many times a whole file was read for its hash (while it settled, when admitted, before an upload). */
    public int wholeReads() {
        return reads.get();
    }

    static String sha256(Path file) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        // reads of 256 KiB: larger ones take a new direct buffer each (jdk.nio.maxCachedBufferSize in the systemd unit)
        byte[] buf = new byte[256 * 1024];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                sha.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}

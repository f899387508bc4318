package com.odooupgradecourier.dump;

import com.odooupgradecourier.support.Moves;

import com.odooupgradecourier.support.Names;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;

/**
 * Where a dump lives while the service holds it: taken from the drop folder into the data folder, then
 * archived once delivered or put beside its error record when it failed. A dump is never deleted before its
 * archive is delivered, and a move never replaces another file (see {@link Moves}); a dump's own settings
 * file ({@code <dump>.properties}) moves with it.
 */
public class Custody {
    private static final java.nio.file.LinkOption NOFOLLOW = java.nio.file.LinkOption.NOFOLLOW_LINKS;
    /**
     * The journal beside a dump in custody (what the store knows of its request, for a store that was lost): it goes
     * when the dump leaves custody, as it holds the request's key.
     */
    private static final String JOURNAL = com.odooupgradecourier.store.Journal.NAME;
    private final Path dumpsDir;

    public Custody(Path dataDir) {
        this.dumpsDir = dataDir.resolve("dumps").toAbsolutePath();
    }

    /** The steps in which the service holds the dump itself (in the staging folder, then in custody). */
    private static final java.util.Set<String> HELD = java.util.Set.of("received", "held", "admitted", "created", "uploading", "uploaded",
            "processing", "done", "downloading", "downloaded");

    /**
     * Before a step is taken up: the dump the store says is on its way is still held (its file or at least its folder,
     * or its folder in custody: a stop between {@link #take} and the step that records the new place leaves the store
     * naming the staging folder {@code take} emptied). When all are gone, the store is older than what happened to the
     * dump (a store restored from a backup made before the dump was delivered, whose folder then left custody): nothing
     * is done again for it.
     */
    public void requireHeld(@org.apache.camel.ExchangeProperty("dumpStep") String step,
                            @org.apache.camel.ExchangeProperty("dumpPath") String dumpPath,
                            @org.apache.camel.ExchangeProperty("fileName") String fileName,
                            @org.apache.camel.ExchangeProperty("dumpId") String dumpId) throws CustodyLostException {
        if (!HELD.contains(step) || dumpPath == null) {
            return;
        }
        Path dump = Path.of(dumpPath);
        if (Files.exists(dump, NOFOLLOW) || dump.getParent() != null && Files.exists(dump.getParent(), NOFOLLOW)
                || dumpId != null && Files.exists(dumpsDir.resolve(dumpId), NOFOLLOW)) {
            return;
        }
        throw new CustodyLostException(fileName + " is at step " + step + " in the store, but it is no longer held (" + dump.getParent()
                + " is gone): the store is older than what became of the dump (restored from a copy made before its delivery?), "
                + "so nothing is uploaded, downloaded or delivered again for it");
    }

    /**
     * Takes a dump received in the drop folder's staging area into the data folder ({@code dumps/<id>/}),
     * with its settings, and sets {@code dumpPath} to where it is now. Done already (a retake): nothing moves.
     */
    public void take(Exchange exchange) throws IOException {
        Path source = Path.of(exchange.getProperty("dumpPath", String.class)).toAbsolutePath();
        Path target = dumpsDir.resolve(exchange.getProperty("dumpId", String.class)).resolve(source.getFileName());
        if (source.equals(target)) {
            return;
        }
        // a link is moved as the link it is (and refused when inspected), never followed: a relative one points nowhere now
        if (Files.exists(target, NOFOLLOW)) {
            // a move cut short by a crash: the dump is complete under its new name (a copy gets it only when whole)
            Files.deleteIfExists(source);
        } else if (Files.exists(source, NOFOLLOW)) {
            Moves.moveNew(source, target);
        } else {
            throw new NoSuchFileException(source.toString(), null, "the dump is no longer where the service put it");
        }
        moveSidecar(source, sidecar(target));
        deleteIfEmpty(source.getParent());
        exchange.setProperty("dumpPath", target.toString());
    }

    /**
     * Moves a dump that failed into {@code failedDir} under its own name, or the first free {@code <name>.1},
     * {@code <name>.2}, … (taken atomically: a name another dump got at the same moment is never reused), and
     * returns where it is now. A dump that is no longer in custody stays where it is.
     */
    public String moveToFailed(@ExchangeProperty("dumpPath") String dumpPath, @ExchangeProperty("failedDir") String failedDir,
                               @ExchangeProperty("fileName") String fileName) throws IOException {
        Path source = dumpPath == null ? null : Path.of(dumpPath);
        if (source == null || !Files.exists(source, NOFOLLOW)) {
            return dumpPath;
        }
        Path dir = Files.createDirectories(Path.of(failedDir).toAbsolutePath());
        for (int i = 0; ; i++) {
            Path candidate = dir.resolve(Names.fit(i == 0 ? fileName : fileName + "." + i));
            if (Files.exists(candidate, NOFOLLOW) && !Files.isSymbolicLink(source) && Files.isSameFile(source, candidate)) {
                // moved here before a crash cut the move short
                Files.delete(source);
                moveSidecar(source, sidecar(candidate));
                return candidate.toString();
            }
            if (Files.exists(candidate, NOFOLLOW) || Files.exists(record(candidate), NOFOLLOW)) {
                continue;
            }
            try {
                Moves.moveNew(source, candidate);
            } catch (FileAlreadyExistsException taken) {
                continue;
            }
            moveSidecar(source, sidecar(candidate));
            deleteIfEmpty(source.getParent());
            return candidate.toString();
        }
    }

    /**
     * A dump the store still places in custody or staging, moved into {@code failedDir} by a bounce a stop cut short
     * before its record: the file of its name (or {@code <name>.1}, …, as {@link #moveToFailed} chose) that has no record
     * beside it and is the same file (device and inode) its stamp names. Null when there is none (or no stamp).
     */
    public Path movedToFailed(String fileName, Path failedDir, String stamp) {
        if (stamp == null || stamp.isBlank()) {
            return null;
        }
        String fileKey = stamp.split(" ")[0];
        for (int i = 0; ; i++) {
            Path candidate = failedDir.resolve(Names.fit(i == 0 ? fileName : fileName + "." + i));
            boolean there = Files.exists(candidate, NOFOLLOW);
            boolean recorded = Files.exists(record(candidate), NOFOLLOW);
            if (!there && !recorded) {
                return null; // the first name no bounce took: it went no further
            }
            try {
                if (there && !recorded && com.odooupgradecourier.support.FileStamp.of(candidate).fileKey().equals(fileKey)) {
                    return candidate;
                }
            } catch (IOException gone) {
                // looked at the next name
            }
        }
    }

    /**
     * Writes the error record (the body) beside the failed dump as {@code <dump>.error.json}, never over
     * another file, and returns its path.
     */
    public String writeRecord(@org.apache.camel.Body String record, @ExchangeProperty("dumpPath") String dumpPath,
                              @ExchangeProperty("failedDir") String failedDir, @ExchangeProperty("fileName") String fileName,
                              @ExchangeProperty("dumpId") String dumpId) throws IOException {
        Path dump = dumpPath == null ? null : Path.of(dumpPath).toAbsolutePath();
        Path dir = Path.of(failedDir).toAbsolutePath();
        Path target = dump != null && dump.getParent().equals(dir) ? record(dump) : dir.resolve(Names.fit(fileName, ".error.json"));
        byte[] content = record.getBytes(StandardCharsets.UTF_8);
        try {
            Moves.writeNew(target, content);
        } catch (FileAlreadyExistsException taken) {
            target = dir.resolve(Names.fit(fileName + "." + dumpId, ".error.json"));
            Moves.writeNew(target, content);
        }
        return target.toString();
    }

    /**
     * A failed dump taken up again: from where it was put ({@code path}, in the failed folder) back into custody
     * with its settings; its error record is removed. Returns where it is now.
     */
    public String takeBack(String dumpId, String fileName, String path) throws IOException {
        Path source = path == null ? null : Path.of(path).toAbsolutePath();
        if (source == null || !Files.exists(source, NOFOLLOW)) {
            throw new NoSuchFileException(String.valueOf(path), null, "the dump is no longer there: drop it again instead");
        }
        Path target = Path.of(custodyPath(dumpId, fileName));
        if (source.equals(target)) {
            return target.toString();
        }
        Moves.moveNew(source, target);
        moveSidecar(source, sidecar(target));
        Files.deleteIfExists(record(source));
        return target.toString();
    }

    /** Where a dump is kept in custody: {@code data/dumps/<id>/<name>}. */
    public String custodyPath(String dumpId, String fileName) {
        return dumpsDir.resolve(dumpId).resolve(fileName).toString();
    }

    /** The dumps in custody: {@code data/dumps/<id>/}. */
    public Path dumpsDir() {
        return dumpsDir;
    }

    /** Moves a delivered dump from custody to {@code archiveDir}/{@code dumpId}/. */
    public String archive(@ExchangeProperty("dumpPath") String dumpPath, @ExchangeProperty("archiveDir") String archiveDir,
                          @ExchangeProperty("dumpId") String dumpId) throws IOException {
        Path source = Path.of(dumpPath);
        Path target = Path.of(archiveDir).resolve(dumpId).resolve(source.getFileName());
        if (!Files.exists(source, NOFOLLOW) && Files.exists(target, NOFOLLOW)) {
            // archived before a crash: what custody still holds of it (its journal) goes too
            deleteIfEmpty(source.getParent());
            return target.toString();
        }
        Moves.moveNew(source, target);
        moveSidecar(source, sidecar(target));
        deleteIfEmpty(source.getParent());
        return target.toString();
    }

    /** Deletes a delivered dump ({@code courier.keep-dumps = delete}). */
    public void delete(@ExchangeProperty("dumpPath") String dumpPath) throws IOException {
        Path source = Path.of(dumpPath);
        Files.deleteIfExists(source);
        Files.deleteIfExists(sidecar(source));
        deleteIfEmpty(source.getParent());
    }

    /** Deletes the local copies of what was just delivered. */
    public void discard(@ExchangeProperty("archivePath") String archivePath, @ExchangeProperty("notesPath") String notesPath,
                        @ExchangeProperty("dumpStep") String step) throws IOException {
        // a dump still to be restored keeps its archive here until it is restored
        for (String p : "restoring".equals(step) ? new String[] {notesPath} : new String[] {archivePath, notesPath}) {
            if (p != null) {
                Files.deleteIfExists(Path.of(p));
            }
        }
    }

    /** The settings file that belongs to a dump: {@code <dump>.properties} beside it. */
    public static Path sidecar(Path dump) {
        return dump.resolveSibling(Names.beside(dump.getFileName().toString(), ".properties"));
    }

    /** The error record beside a failed dump: {@code <dump>.error.json}. */
    public static Path record(Path failedDump) {
        return failedDump.resolveSibling(Names.beside(failedDump.getFileName().toString(), ".error.json"));
    }

    private static void moveSidecar(Path dump, Path to) throws IOException {
        Path sidecar = sidecar(dump);
        if (Files.exists(sidecar, NOFOLLOW)) {
            try {
                Moves.moveNew(sidecar, to);
            } catch (FileAlreadyExistsException taken) {
                Moves.moveNew(sidecar, to.resolveSibling(Names.fit(to.getFileName() + "." + System.nanoTime())));
            }
        }
    }

    private static void deleteIfEmpty(Path dir) {
        try {
            // the dump left custody: its journal goes with it (it holds the request's key)
            Files.deleteIfExists(dir.resolve(JOURNAL));
            Files.deleteIfExists(dir.resolve(JOURNAL + ".tmp"));
        } catch (IOException e) {
            // the folder stays, and with it the journal
        }
        try (var entries = Files.list(dir)) {
            if (entries.findAny().isEmpty()) {
                Files.delete(dir);
            }
        } catch (IOException e) {
            // leaving an empty folder is harmless
        }
    }
}

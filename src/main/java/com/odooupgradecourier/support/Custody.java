package com.odooupgradecourier.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.apache.camel.ExchangeProperty;

/**
 * Where a dump lives while the service holds it. It never deletes a dump that has no delivered
 * archive: failed dumps go beside their error record, delivered ones to the archive.
 */
public class Custody {

    /** Moves a dump that failed into {@code failedDir}, under its own name or a free variant of it. */
    public String moveToFailed(@ExchangeProperty("dumpPath") String dumpPath, @ExchangeProperty("failedDir") String failedDir,
                               @ExchangeProperty("fileName") String fileName) throws IOException {
        Path source = dumpPath == null ? null : Path.of(dumpPath);
        if (source == null || !Files.exists(source)) {
            return dumpPath;
        }
        Path dir = Files.createDirectories(Path.of(failedDir));
        Path target = freeName(dir, fileName);
        Files.move(source, target, StandardCopyOption.ATOMIC_MOVE);
        moveSidecar(source, target);
        deleteIfEmpty(source.getParent());
        return target.toString();
    }

    /** The name of the error record for a dump now at {@code failedDumpPath}. */
    public String recordName(@ExchangeProperty("dumpPath") String failedDumpPath) {
        return Path.of(failedDumpPath).getFileName() + ".error.json";
    }

    /** Moves a delivered dump from custody to {@code archiveDir}/{@code dumpId}/. */
    public String archive(@ExchangeProperty("dumpPath") String dumpPath, @ExchangeProperty("archiveDir") String archiveDir,
                          @ExchangeProperty("dumpId") String dumpId) throws IOException {
        Path source = Path.of(dumpPath);
        Path dir = Files.createDirectories(Path.of(archiveDir).resolve(dumpId));
        Path target = dir.resolve(source.getFileName());
        Files.move(source, target, StandardCopyOption.ATOMIC_MOVE);
        moveSidecar(source, target);
        deleteIfEmpty(source.getParent());
        return target.toString();
    }

    /** Deletes a delivered dump ({@code courier.keep-dumps = delete}). */
    public void delete(@ExchangeProperty("dumpPath") String dumpPath) throws IOException {
        Path source = Path.of(dumpPath);
        Files.deleteIfExists(source);
        Files.deleteIfExists(Path.of(dumpPath + ".properties"));
        deleteIfEmpty(source.getParent());
    }

    /** A path as a {@link java.io.File}: the body that file and HTTP producers stream from disk. */
    public java.io.File fileAt(String path) {
        return Path.of(path).toFile();
    }

    /** Deletes the local copies of what was just delivered. */
    public void discard(@ExchangeProperty("archivePath") String archivePath, @ExchangeProperty("notesPath") String notesPath)
            throws IOException {
        for (String p : new String[] {archivePath, notesPath}) {
            if (p != null) {
                Files.deleteIfExists(Path.of(p));
            }
        }
    }

    /** A dump's own settings ({@code <dump>.properties}) stay with it. */
    private static void moveSidecar(Path dump, Path movedTo) throws IOException {
        Path sidecar = Path.of(dump + ".properties");
        if (Files.exists(sidecar)) {
            Files.move(sidecar, Path.of(movedTo + ".properties"), StandardCopyOption.ATOMIC_MOVE);
        }
    }

    private static Path freeName(Path dir, String fileName) {
        Path candidate = dir.resolve(fileName);
        for (int i = 1; Files.exists(candidate) || Files.exists(dir.resolve(candidate.getFileName() + ".error.json")); i++) {
            candidate = dir.resolve(fileName + "." + i);
        }
        return candidate;
    }

    private static void deleteIfEmpty(Path dir) {
        try (var entries = Files.list(dir)) {
            if (entries.findAny().isEmpty()) {
                Files.delete(dir);
            }
        } catch (IOException e) {
            // leaving an empty folder is harmless
        }
    }
}

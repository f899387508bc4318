package com.odooupgradecourier.rehearsal;

import com.odooupgradecourier.restore.Programs;
import com.odooupgradecourier.restore.RestoreFailedException;
import com.odooupgradecourier.support.Moves;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.apache.camel.Exchange;

/**
 * A source database dumped as Odoo's own client does, into the courier's custody ({@code data/dumps/<id>/}, never the drop
 * folder): {@code pg_dump --no-owner} in custom format; with a filestore, an Odoo backup zip instead ({@code dump.sql}
 * as pg_dump writes plain SQL, and {@code filestore/}), the format the platform takes with attachments. pg_dump writes to a
 * file of its own ({@code --file}), never through this JVM's memory; the zip is streamed. Everything is made under a
 * temporary name and put in place when complete: a dump that fails midway leaves nothing behind. pg_dump connects through
 * its environment (PGPASSWORD): the password is never in its arguments.
 */
public class SourceDumps {
    private final Programs programs;
    private final Path dumpsDir;
    private final Duration limit;

    /**
     * @param binDir   where pg_dump is ({@code courier.restore.bin-dir}), or null for the PATH
     * @param dumpsDir the dumps in custody ({@code data/dumps})
     * @param limit    how long one dump may take
     */
    public SourceDumps(Path binDir, Path dumpsDir, Duration limit) {
        this.programs = new Programs(binDir, limit);
        this.dumpsDir = dumpsDir;
        this.limit = limit;
    }

    /** At start, when sources are configured: pg_dump is there. */
    public void checkTool() {
        if (programs.program("pg_dump") == null) {
            throw new IllegalStateException("courier.sources is set, but pg_dump is not on the PATH (or in courier.restore.bin-dir): "
                    + "install PostgreSQL's client programs (Debian: postgresql-client)");
        }
    }

    /**
     * Dumps the exchange's source ({@code source}, a {@link Source}) for the dump {@code dumpId} as {@code fileName}; sets
     * {@code dumpPath}.
     *
     * @throws SourceUnavailableException the server could not be reached, or went away: tried again later
     * @throws IOException                pg_dump failed for another reason (its last error lines), or a file could not be written
     */
    public void dump(Exchange exchange) throws Exception {
        Source source = exchange.getProperty("rehearsalSource", Source.class);
        String id = exchange.getProperty("dumpId", String.class);
        String fileName = exchange.getProperty("fileName", String.class);
        Path folder = dumpsDir.resolve(id);
        Files.createDirectories(folder);
        Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwx------"));
        Path target = folder.resolve(fileName);
        Path part = folder.resolve("." + fileName + ".part");
        Path work = folder.resolve(".pg_dump.part");
        try {
            Files.deleteIfExists(part);
            Moves.deleteTree(work);
            if (source.filestore() == null) {
                pgDump(source, "custom", part);
            } else {
                Files.createDirectories(work);
                pgDump(source, "plain", work.resolve("dump.sql"));
                zip(work.resolve("dump.sql"), source.filestore(), part);
            }
            Moves.sync(part);
            Files.move(part, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } finally {
            // nothing half-made stays: only a complete dump is ever under its name (the rehearsal's end clears the folder)
            Files.deleteIfExists(part);
            Moves.deleteTree(work);
        }
        exchange.setProperty("dumpPath", target.toString());
    }

    private void pgDump(Source source, String format, Path file) throws Exception {
        Programs.Result r;
        try {
            r = programs.run("pg_dump", List.of("--no-owner", "--format=" + format, "--file=" + file), source.connection(), null, limit,
                    source.password());
        } catch (RestoreFailedException e) {
            throw new IOException("pg_dump of " + source.name() + " ran longer than " + limit.toSeconds() + " s and was stopped");
        }
        if (r.exit() == 0) {
            return;
        }
        if (r.serverGone()) {
            throw new SourceUnavailableException("the source database " + source.name() + " (" + source.host() + ":" + source.port()
                    + "/" + source.database() + ") cannot be reached: " + r.stderr());
        }
        throw new IOException("pg_dump of " + source.name() + " failed: " + r.stderr());
    }

    /**
     * An Odoo backup zip: dump.sql, then every file of the filestore, streamed. The configured folder may itself be a link
     * (a filestore on another volume): its target is walked; links inside it are not followed.
     */
    private static void zip(Path sql, Path configuredFilestore, Path out) throws IOException {
        Path filestore = configuredFilestore.toRealPath();
        try (OutputStream file = Files.newOutputStream(out); ZipOutputStream zip = new ZipOutputStream(file)) {
            zip.putNextEntry(new ZipEntry("dump.sql"));
            Files.copy(sql, zip);
            zip.closeEntry();
            try (Stream<Path> walk = Files.walk(filestore)) {
                for (Path p : (Iterable<Path>) walk.sorted()::iterator) {
                    if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                        continue;
                    }
                    String rel = filestore.relativize(p).toString().replace('\\', '/');
                    zip.putNextEntry(new ZipEntry("filestore/" + rel));
                    try (InputStream in = Files.newInputStream(p)) {
                        in.transferTo(zip);
                    }
                    zip.closeEntry();
                }
            }
        }
    }
}

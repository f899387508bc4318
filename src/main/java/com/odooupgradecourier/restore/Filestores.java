package com.odooupgradecourier.restore;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A restored database's filestore: the database's own (the filestore of the dropped Odoo zip, or its folder in
 * {@code courier.restore.source-filestore-dir}), with the one the platform returned merged over it, as Odoo's
 * documentation asks. Files of a folder are hard-linked where the file system allows (as {@code click-odoo-copydb}
 * does), copied otherwise; a file the platform returned replaces the original's (never written through a link: the
 * original's own file stays as it was). Nothing is written outside the database's folder, no link is followed.
 */
final class Filestores {
    private static final Logger LOG = LoggerFactory.getLogger("courier");

    private Filestores() {
    }

    /** The files of {@code from} (a folder on disk) into {@code target}: hard links, or copies. Links in it are not followed. */
    static void linkFolder(Path from, Path target) throws IOException, RestoreFailedException {
        if (!Files.isDirectory(from, LinkOption.NOFOLLOW_LINKS)) {
            throw new RestoreFailedException("the database's own filestore " + from + " is not a folder: not restored");
        }
        Files.createDirectories(target);
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Files.createDirectories(target.resolve(from.relativize(dir).toString()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
                Path to = target.resolve(from.relativize(f).toString());
                if (attrs.isSymbolicLink() || !attrs.isRegularFile()) {
                    LOG.warn("The filestore {} holds {}, which is not a plain file: it is not taken", from, from.relativize(f));
                    return FileVisitResult.CONTINUE;
                }
                try {
                    Files.createLink(to, f);
                } catch (FileAlreadyExistsException e) {
                    throw e;
                } catch (IOException | UnsupportedOperationException e) {
                    Files.copy(f, to, StandardCopyOption.COPY_ATTRIBUTES);
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /**
     * The zip's entries under {@code prefix} ({@code filestore/}) into {@code target}; {@code replace}: an existing file
     * is replaced (removed first, so a hard link's other name keeps its content).
     */
    static void extract(ZipFile zip, List<String> entries, String prefix, Path target, boolean replace, String whose)
            throws IOException, RestoreFailedException {
        Files.createDirectories(target);
        for (String name : entries) {
            String relative = name.substring(prefix.length());
            Path to = target.resolve(relative).normalize();
            if (!to.startsWith(target) || to.equals(target)) {
                throw new RestoreFailedException(whose + " entry " + name + " points outside the filestore: not restored");
            }
            try {
                makeFolders(target, to.getParent(), whose);
                if (Files.isDirectory(to, LinkOption.NOFOLLOW_LINKS)) {
                    throw new RestoreFailedException(whose + " filestore holds both a file and a folder named " + relative
                            + ": it cannot be restored as it is");
                }
                if (replace) {
                    Files.deleteIfExists(to);
                }
                try (InputStream in = zip.getInputStream(zip.getEntry(name))) {
                    Files.copy(in, to);
                }
            } catch (FileAlreadyExistsException e) {
                throw new RestoreFailedException(whose + " filestore names the file " + relative + " twice: it cannot be restored as it is");
            } catch (NotDirectoryException e) {
                throw new RestoreFailedException(whose + " filestore holds both a file and a folder named "
                        + target.relativize(Path.of(e.getFile())) + ": it cannot be restored as it is");
            }
        }
    }

    /** The folders down to {@code dir}, each refused with a sentence when a file (or a link) has its name. */
    private static void makeFolders(Path target, Path dir, String whose) throws IOException, RestoreFailedException {
        Path at = target;
        for (Path part : target.relativize(dir)) {
            at = at.resolve(part.toString());
            if (Files.isSymbolicLink(at)) {
                throw new RestoreFailedException(whose + " filestore has a link " + target.relativize(at) + " with files under it: "
                        + "links are not followed, it cannot be restored as it is");
            }
            if (Files.exists(at, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(at, LinkOption.NOFOLLOW_LINKS)) {
                throw new RestoreFailedException(whose + " filestore holds both a file and a folder named " + target.relativize(at)
                        + ": it cannot be restored as it is");
            }
            try {
                Files.createDirectories(at);
            } catch (FileSystemException e) {
                throw new RestoreFailedException(whose + " filestore's folder " + target.relativize(at) + " cannot be made ("
                        + e.getReason() + ")");
            }
        }
    }

    /** How many of {@code files} (names relative to the filestore, e.g. {@code ab/abcdef…}) are not in {@code filestore}. */
    static long missing(Path filestore, Iterable<String> files) {
        long n = 0;
        for (String f : files) {
            Path p = filestore.resolve(f).normalize();
            if (!p.startsWith(filestore) || !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                n++;
            }
        }
        return n;
    }

    /**
     * The restored database's filestore: its own first (the dropped zip's, or its folder in
     * courier.restore.source-filestore-dir named by the dump's source-database), the platform's merged over it.
     */
    static void merge(Exchange exchange, Archive archive, Path target, Path sourceFilestoreDir) throws IOException, RestoreFailedException {
        String fileName = exchange.getProperty("fileName", String.class);
        List<String> returned;
        try (ZipFile zip = archive.zip() ? new ZipFile(archive.file().toFile()) : null) {
            returned = zip == null ? List.of() : archive.filestoreEntries(zip);
            if (target == null) {
                if (!returned.isEmpty()) {
                    LOG.warn("{}: the archive has a filestore, but courier.restore.filestore-dir is not set: it is not restored", fileName);
                }
                return;
            }
            try {
                Files.createDirectories(target);
            } catch (java.nio.file.FileSystemException e) {
                throw new RestoreFailedException("the database's filestore folder " + target + " cannot be made: "
                        + (e instanceof java.nio.file.FileAlreadyExistsException || "Not a directory".equals(e.getReason())
                        ? "a file is in its way (in courier.restore.filestore-dir)" : e.getReason()));
            }
            original(exchange, target, sourceFilestoreDir);
            if (zip != null) {
                extract(zip, returned, "filestore/", target, true, "the archive's");
            }
        }
    }

    /** The database's own filestore into {@code target}, when the dump brought one or its source's folder is known. */
    private static void original(Exchange exchange, Path target, Path sourceFilestoreDir) throws IOException, RestoreFailedException {
        String source = exchange.getProperty("sourceDatabase", String.class);
        if (source != null && !source.isBlank() && sourceFilestoreDir != null) {
            linkFolder(sourceFilestoreDir.resolve(source.trim()), target);
            return;
        }
        String dump = exchange.getProperty("dumpPath", String.class);
        if (!"odoo-zip".equals(exchange.getProperty("dumpFormat")) || dump == null || !Files.isRegularFile(Path.of(dump))) {
            return;
        }
        try (ZipFile zip = new ZipFile(dump)) {
            List<String> own = new ArrayList<>();
            for (java.util.Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
                ZipEntry e = en.nextElement();
                if (e.getName().startsWith("filestore/") && !e.isDirectory()) {
                    own.add(e.getName());
                }
            }
            extract(zip, own, "filestore/", target, false, "the dropped dump's");
        }
    }
}

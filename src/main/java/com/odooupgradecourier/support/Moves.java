package com.odooupgradecourier.support;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * Moving a customer's file without ever losing it or replacing another: the drop, data, output and failed
 * folders may be on different file systems (a network share, a tmpfs).
 *
 * <p>On one file system a move is a hard link under the new name (which fails, atomically, when that name is
 * taken) and then the removal of the old name; where links are not supported, a rename that checks first.
 * Across file systems it is a copy to a temporary name beside the target, synced to disk, put in place the
 * same way, and only then the removal of the source: a failed copy leaves the source untouched.
 */
public final class Moves {
    private Moves() {
    }

    /**
     * Moves {@code source} to {@code target}.
     *
     * @throws FileAlreadyExistsException {@code target} exists: nothing was moved
     */
    public static void moveNew(Path source, Path target) throws IOException {
        Files.createDirectories(target.toAbsolutePath().getParent());
        if (Files.isSymbolicLink(source)) {
            // a link is moved as a link, never followed: what it points to is not the user's to move
            Files.move(source, target, java.nio.file.LinkOption.NOFOLLOW_LINKS);
            return;
        }
        if (Files.exists(target) && Files.isSameFile(source, target)) {
            // a move cut short between the new name and the removal of the old one: finished now
            Files.delete(source);
            return;
        }
        if (sameFileSystem(source, target)) {
            place(source, target);
            Files.deleteIfExists(source);
        } else {
            FileStamp before = FileStamp.of(source);
            Path tmp = copyToTemporary(source, target);
            try {
                if (!FileStamp.of(source).equals(before)) {
                    // written to while it was copied (a write changes the change time even when the size and the modification
                    // time are put back): the copy is not the file, and the source stays where it was
                    throw new FileChangedException("the file changed while it was being taken — copy it again (" + source.getFileName()
                            + " was " + before.describe() + " when its copy began, " + FileStamp.of(source).describe() + " after)");
                }
                place(tmp, target);
            } finally {
                Files.deleteIfExists(tmp);
            }
            syncFolder(target.toAbsolutePath().getParent());
            Files.delete(source);
        }
    }

    /**
     * {@code target} gets the content of {@code source}, which stays: a hard link on one file system, otherwise a
     * synced copy put in place; never over an existing file.
     *
     * @throws FileAlreadyExistsException {@code target} exists: nothing was written
     */
    public static void copyNew(Path source, Path target) throws IOException {
        Path dir = Files.createDirectories(target.toAbsolutePath().getParent());
        if (sameFileSystem(source, target)) {
            place(source, target);
            return;
        }
        Path tmp = copyToTemporary(source, target);
        try {
            place(tmp, target);
        } finally {
            Files.deleteIfExists(tmp);
        }
        syncFolder(dir);
    }

    /** Writes {@code content} as the new file {@code target}, complete or not at all. */
    public static void writeNew(Path target, byte[] content) throws IOException {
        Path dir = Files.createDirectories(target.toAbsolutePath().getParent());
        Path tmp = dir.resolve(".incoming-" + UUID.randomUUID() + ".tmp");
        try {
            try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                out.write(java.nio.ByteBuffer.wrap(content));
                out.force(true);
            }
            place(tmp, target);
        } finally {
            Files.deleteIfExists(tmp);
        }
        syncFolder(dir);
    }

    /** Removes the temporary copies a move cut short by a crash left in {@code dir} (never anything else). */
    public static void removeLeftovers(Path dir) {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (var files = Files.list(dir)) {
            for (Path f : files.filter(f -> LEFTOVER.matcher(f.getFileName().toString()).matches()).toList()) {
                Files.deleteIfExists(f);
            }
        } catch (IOException e) {
            // left for the next start
        }
    }

    private static final java.util.regex.Pattern LEFTOVER =
            java.util.regex.Pattern.compile("\\.incoming-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\.tmp");

    /** Deletes a folder and all it holds (a link itself, never what it leads to); nothing when it is not there. */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (java.util.stream.Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Flushes a file's bytes to disk. */
    public static void sync(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    /** Whether two files hold the same bytes (the same file, or equal size and content). */
    public static boolean sameContent(Path a, Path b) throws IOException {
        if (!Files.exists(a) || !Files.exists(b)) {
            return false;
        }
        if (Files.isSameFile(a, b)) {
            return true;
        }
        return Files.size(a) == Files.size(b) && Files.mismatch(a, b) == -1;
    }

    /** {@code target} gets the content of {@code source} (which keeps it too), never replacing an existing file. */
    private static void place(Path source, Path target) throws IOException {
        try {
            Files.createLink(target, source);
        } catch (FileAlreadyExistsException e) {
            throw e;
        } catch (IOException | UnsupportedOperationException e) {
            // no hard links here: a rename that refuses an existing target (checked just before, not atomically)
            Files.move(source, target);
        }
    }

    private static Path copyToTemporary(Path source, Path target) throws IOException {
        Path tmp = target.toAbsolutePath().getParent().resolve(".incoming-" + UUID.randomUUID() + ".tmp");
        try (InputStream in = Files.newInputStream(source);
             FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            in.transferTo(java.nio.channels.Channels.newOutputStream(out));
            out.force(true);
            // the copy keeps the file's modification time, as a move in one file system does
            Files.setLastModifiedTime(tmp, Files.getLastModifiedTime(source));
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        return tmp;
    }

    private static boolean sameFileSystem(Path source, Path target) throws IOException {
        return Files.getFileStore(source.toAbsolutePath().getParent()).equals(Files.getFileStore(target.toAbsolutePath().getParent()));
    }

    private static void syncFolder(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // not every file system lets a folder be synced; the file itself was
        }
    }
}

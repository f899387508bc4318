package com.odooupgradecourier.dump;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * A dump is taken whole or not at all. A copy that pauses longer than the settle time and goes on by opening the file
 * again (cat >>, a resumed transfer) leaves its first part in the drop folder as a file of its own, complete to every
 * stamp: plain SQL is known whole by pg_dump's first and last lines ({@code -- PostgreSQL database dump}, {@code -- PostgreSQL
 * database dump complete}: the rest of a copy cut in two has the last, not the first), gzipped SQL by a gzip stream that
 * ends where it should and then those lines, a zip by its central directory (written last). A
 * custom-format dump cut short is refused by the platform's own pg_restore. An Odoo zip's filestore names only files
 * under {@code filestore/}: a name that leaves it, or a file and a folder of one name, is refused now, not after the
 * upgrade.
 */
final class WholeDump {
    static final String HEADER = "-- PostgreSQL database dump";
    static final String TRAILER = "-- PostgreSQL database dump complete";
    /** How much of a dump's end is looked at for pg_dump's last line (after it: \\unrestrict and empty lines). */
    private static final int TAIL = 4096;

    private WholeDump() {
    }

    static void require(Path file, String format) throws IOException, BadDumpException {
        switch (format) {
            case "sql" -> {
                requireHeader(headOf(file), "");
                requireTrailer(tailOf(file), "");
            }
            case "sql-gzip" -> {
                byte[][] ends = endsOfGzip(file);
                requireHeader(ends[0], " (gzipped)");
                requireTrailer(ends[1], " (gzipped)");
            }
            case "odoo-zip" -> requireFilestoreNames(file);
            default -> {
                // pgdump-custom: the platform's pg_restore refuses one cut short
            }
        }
    }

    /** pg_dump's first line: the rest of a copy cut in two ends as a dump does, but does not begin as one. */
    private static void requireHeader(byte[] head, String how) throws BadDumpException {
        if (!new String(head, StandardCharsets.ISO_8859_1).contains(HEADER)) {
            throw new BadDumpException("the SQL dump" + how + " does not begin with pg_dump's first line ('" + HEADER + "'): it is "
                    + "the rest of a copy cut in two, or not a dump pg_dump wrote. Nothing of it is sent. Copy the whole dump again, "
                    + "best under a temporary name (<name>.part) renamed once complete.");
        }
    }

    private static void requireTrailer(byte[] tail, String how) throws BadDumpException {
        if (!new String(tail, StandardCharsets.ISO_8859_1).contains(TRAILER)) {
            throw new BadDumpException("the SQL dump" + how + " ends before pg_dump's last line ('" + TRAILER + "'): it was copied "
                    + "cut short (a copy that paused and went on into a new file?), or is not whole. Nothing of it is sent. Copy "
                    + "the whole dump again, best under a temporary name (<name>.part) renamed once complete.");
        }
    }

    private static byte[] headOf(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(TAIL);
        }
    }

    private static byte[] tailOf(Path file) throws IOException {
        try (SeekableByteChannel ch = Files.newByteChannel(file)) {
            long size = ch.size();
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate((int) Math.min(TAIL, size));
            ch.position(size - b.capacity());
            while (b.hasRemaining() && ch.read(b) >= 0) {
                // read to the end
            }
            return b.array();
        }
    }

    /** The first and the last bytes of a gzip file's content, read to the end of its stream (streamed: only those are kept). */
    private static byte[][] endsOfGzip(Path file) throws IOException, BadDumpException {
        byte[] ring = new byte[TAIL];
        byte[] head;
        long total = 0;
        byte[] buf = new byte[1 << 16];
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file), 1 << 16)) {
            head = in.readNBytes(TAIL);
            for (int i = 0; i < head.length; i++) {
                ring[i % TAIL] = head[i];
            }
            total = head.length;
            for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                for (int i = Math.max(0, n - TAIL); i < n; i++) {
                    ring[(int) ((total + i) % TAIL)] = buf[i];
                }
                total += n;
            }
        } catch (EOFException e) {
            throw new BadDumpException("the gzip file ends before its end: it was copied cut short (a copy that paused and went on "
                    + "into a new file?), or is not whole. Nothing of it is sent. Copy the whole dump again, best under a temporary "
                    + "name (<name>.part) renamed once complete.");
        } catch (java.util.zip.ZipException e) {
            throw new BadDumpException("corrupt gzip file (" + e.getMessage() + "): compress the dump again with gzip.");
        }
        int kept = (int) Math.min(TAIL, total);
        byte[] tail = new byte[kept];
        for (int i = 0; i < kept; i++) {
            tail[i] = ring[(int) ((total - kept + i) % TAIL)];
        }
        return new byte[][] {head, tail};
    }

    /** Every filestore name stays under filestore/, and no name is both a file and a folder. */
    private static void requireFilestoreNames(Path file) throws IOException, BadDumpException {
        Set<String> files = new HashSet<>();
        Set<String> folders = new HashSet<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
                ZipEntry e = en.nextElement();
                if (!e.getName().startsWith("filestore/")) {
                    continue;
                }
                String relative = e.getName().substring("filestore/".length());
                String[] parts = relative.split("/", -1);
                for (String part : parts) {
                    if (part.equals("..") || part.equals(".") || part.contains("\\") || relative.startsWith("/")) {
                        throw new BadDumpException("the zip's filestore names " + e.getName() + ", which leaves the filestore: "
                                + "make the backup again (Odoo's backups name files as filestore/<xx>/<hash>).");
                    }
                }
                String path = e.isDirectory() ? relative.replaceAll("/+$", "") : relative;
                StringBuilder parent = new StringBuilder();
                for (int i = 0; i < parts.length - 1; i++) {
                    parent.append(i == 0 ? "" : "/").append(parts[i]);
                    folders.add(parent.toString());
                }
                if (!e.isDirectory() && !path.isEmpty()) {
                    files.add(path);
                } else if (!path.isEmpty()) {
                    folders.add(path);
                }
            }
        }
        for (String f : files) {
            if (folders.contains(f)) {
                throw new BadDumpException("the zip's filestore holds both a file and a folder named " + f + ": it could not be "
                        + "restored as it is; make the backup again.");
            }
        }
    }
}

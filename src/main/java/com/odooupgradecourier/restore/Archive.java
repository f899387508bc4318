package com.odooupgradecourier.restore;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * What a delivered archive holds, read from its bytes, never its name: the dump (plain SQL, gzipped SQL, a pg_dump
 * custom-format file, or a pg_dump directory-format folder) and a {@code filestore/}. The archive is the platform's
 * zip ({@code dump.sql} and {@code filestore/}), the zip the courier makes of Odoo's current protocol's download (the
 * platform's {@code dump_name}, a file or a folder, and {@code filestore/}), or a dump alone.
 *
 * @param file  the archive
 * @param zip   whether it is a zip
 * @param kind  how the dump is restored
 * @param entry the dump inside the zip: an entry's name, or a folder's name ending in {@code /} (directory format); null
 *              when the archive is the dump itself
 * @param size  the dump's size (the entries' of a folder, uncompressed)
 */
record Archive(Path file, boolean zip, Kind kind, String entry, long size) {
    /** How a dump is restored. */
    enum Kind {
        /** psql, streamed. */
        SQL,
        /** psql, streamed through gunzip. */
        SQL_GZIP,
        /** pg_restore from a file (parallel jobs need one). */
        CUSTOM,
        /** pg_restore of a folder ({@code --format=directory}, parallel jobs). */
        DIRECTORY
    }

    /** Entries of an archive that are not the dump: its filestore, the platform's notes and logs, Odoo's manifest. */
    private static final Set<String> BESIDE = Set.of("upgrade.json", "manifest.json", "upgrade-report.html", "upgrade.log");

    static Archive read(Path file) throws IOException, RestoreFailedException {
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(8);
        }
        if (!startsWith(head, new byte[] {'P', 'K', 3, 4})) {
            try (InputStream in = Files.newInputStream(file)) {
                return new Archive(file, false, kindOf(in), null, Files.size(file));
            }
        }
        try (ZipFile zip = new ZipFile(file.toFile())) {
            Set<String> tops = new LinkedHashSet<>();
            for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
                String name = en.nextElement().getName();
                String top = name.contains("/") ? name.substring(0, name.indexOf('/') + 1) : name;
                if (!top.equals("filestore/") && !BESIDE.contains(top)) {
                    tops.add(top);
                }
            }
            String dump = tops.contains("dump.sql") ? "dump.sql" : tops.size() == 1 ? tops.iterator().next() : null;
            if (dump == null) {
                throw new RestoreFailedException("the archive holds no dump to restore (no dump.sql, and not one dump beside its "
                        + "filestore: " + (tops.isEmpty() ? "nothing" : String.join(", ", tops)) + "): not restored");
            }
            if (dump.endsWith("/")) {
                if (zip.getEntry(dump + "toc.dat") == null) {
                    throw new RestoreFailedException("the archive's folder " + dump + " is not a pg_dump directory-format dump (it has no "
                            + "toc.dat): not restored");
                }
                long size = 0;
                for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
                    ZipEntry e = en.nextElement();
                    if (e.getName().startsWith(dump) && !e.isDirectory()) {
                        size += Math.max(0, e.getSize());
                    }
                }
                return new Archive(file, true, Kind.DIRECTORY, dump, size);
            }
            ZipEntry e = zip.getEntry(dump);
            try (InputStream in = zip.getInputStream(e)) {
                return new Archive(file, true, kindOf(in), dump, Math.max(0, e.getSize()));
            }
        } catch (java.util.zip.ZipException e) {
            throw new RestoreFailedException("the archive is a damaged zip (" + e.getMessage() + "): not restored");
        }
    }

    /** The dump's bytes, as psql reads them: gunzipped when gzipped; the caller closes. */
    InputStream sql(ZipFile zip) throws IOException {
        InputStream raw = zip == null ? Files.newInputStream(file) : zip.getInputStream(zip.getEntry(entry));
        return kind == Kind.SQL_GZIP ? new GZIPInputStream(raw, 1 << 16) : raw;
    }

    /** The names of the zip's filestore entries (files only). */
    List<String> filestoreEntries(ZipFile zip) {
        List<String> out = new ArrayList<>();
        for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
            ZipEntry e = en.nextElement();
            if (e.getName().startsWith("filestore/") && !e.isDirectory()) {
                out.add(e.getName());
            }
        }
        return out;
    }

    private static Kind kindOf(InputStream in) throws IOException, RestoreFailedException {
        byte[] head = in.readNBytes(5);
        if (new String(head, StandardCharsets.US_ASCII).equals("PGDMP")) {
            return Kind.CUSTOM;
        }
        if (head.length >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) {
            return Kind.SQL_GZIP;
        }
        if (startsWith(head, new byte[] {'P', 'K', 3, 4})) {
            throw new RestoreFailedException("the archive's dump is itself a zip: not restored (restore it by hand)");
        }
        if (head.length == 0) {
            throw new RestoreFailedException("the archive's dump is empty: not restored");
        }
        return Kind.SQL;
    }

    private static boolean startsWith(byte[] data, byte[] prefix) {
        if (data.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (data[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }
}

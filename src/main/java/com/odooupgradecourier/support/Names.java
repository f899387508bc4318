package com.odooupgradecourier.support;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names derived from a dump's own name (delivered archives, notes, error records, settings files) that always
 * fit the file system: at most 255 bytes in UTF-8. A name that would be longer keeps its extension and
 * suffix; the rest is cut and marked with a short hash of the whole, so two long names stay apart.
 */
public final class Names {
    /** The longest file name Linux file systems take, in bytes. */
    public static final int MAX_BYTES = 255;
    private static final Pattern EXTENSION = Pattern.compile("(\\.[A-Za-z0-9]{1,8}){1,3}$");

    private Names() {
    }

    /** {@code name} followed by {@code suffix}, the name shortened when the whole would not fit. */
    public static String fit(String name, String suffix) {
        String whole = name + suffix;
        if (bytes(whole) <= MAX_BYTES) {
            return whole;
        }
        String ext = extension(name);
        String stem = name.substring(0, name.length() - ext.length());
        // the mark hashes the name alone: names shortened from one name (an archive and its notes) carry the same one
        String mark = "~" + hash(name);
        int room = MAX_BYTES - bytes(mark + ext + suffix);
        if (room < 1) {
            // an extension or suffix too long to keep: only the hash and the suffix
            return mark.substring(1) + suffix;
        }
        return cut(stem, room) + mark + ext + suffix;
    }

    /**
     * A file that goes with {@code name} (notes, an error record): {@code name} followed by {@code suffix}; when that
     * would not fit, the part before the name's shortening mark (or its extension) is cut further, so both carry
     * the same mark.
     */
    public static String beside(String name, String suffix) {
        if (bytes(name + suffix) <= MAX_BYTES) {
            return name + suffix;
        }
        Matcher m = MARK.matcher(name);
        if (!m.find()) {
            return fit(name, suffix);
        }
        String head = name.substring(0, m.start());
        String tail = name.substring(m.start());
        return cut(head, MAX_BYTES - bytes(tail + suffix)) + tail + suffix;
    }

    private static final Pattern MARK = Pattern.compile("~[0-9a-f]{8}(?=(\\.[A-Za-z0-9]{1,8})*$)");

    /** A name that fits, e.g. for a file the courier writes under a name of the user's. */
    public static String fit(String name) {
        return fit(name, "");
    }

    /**
     * The name an upgraded archive is delivered under: {@code upgraded_<dump name>}, with {@code .zip} added when
     * the archive is a zip and the name does not say so ({@code mydb.dump} comes back as
     * {@code upgraded_mydb.dump.zip}: nobody runs pg_restore on a zip).
     */
    public static String delivered(String dumpName, boolean zip) {
        return fit("upgraded_" + dumpName, zipSuffix(dumpName, zip));
    }

    /**
     * The name an upgraded archive is delivered under when {@link #delivered} is taken at the output:
     * {@code upgraded_<stem>-<tag><extension>}, e.g. {@code upgraded_backup-10535.zip}.
     */
    public static String deliveredInstead(String dumpName, String tag, boolean zip) {
        String ext = extension(dumpName);
        String stem = dumpName.substring(0, dumpName.length() - ext.length());
        return fit("upgraded_" + stem + "-" + tag, ext + zipSuffix(dumpName, zip));
    }

    private static String zipSuffix(String dumpName, boolean zip) {
        return zip && !dumpName.toLowerCase(java.util.Locale.ROOT).endsWith(".zip") ? ".zip" : "";
    }

    /** The extension of a name, up to three short parts: {@code .sql.gz}, {@code .zip}, or empty. */
    static String extension(String name) {
        Matcher m = EXTENSION.matcher(name);
        return m.find() && m.start() > 0 ? m.group() : "";
    }

    static int bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    /** The longest beginning of {@code s} that takes at most {@code max} bytes, never splitting a character. */
    private static String cut(String s, int max) {
        int used = 0;
        int end = 0;
        while (end < s.length()) {
            int cp = s.codePointAt(end);
            int n = bytes(new String(Character.toChars(cp)));
            if (used + n > max) {
                break;
            }
            used += n;
            end += Character.charCount(cp);
        }
        return s.substring(0, end);
    }

    private static String hash(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

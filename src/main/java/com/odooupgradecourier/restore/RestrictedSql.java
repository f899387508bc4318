package com.odooupgradecourier.restore;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A plain SQL dump as psql reads it here: behind psql's own {@code \restrict} with a key of this restore, so no
 * backslash command the archive may hold runs ({@code \connect} to another database, {@code \!} a shell command,
 * {@code \copy … program}); only SQL. The dump's own {@code \restrict} and {@code unrestrict} lines (pg_dump writes
 * them around its output) are left out, so they cannot end this restore's restriction.
 *
 * <p>Only psql's meta-commands at the top level are looked at: the data of a {@code COPY … FROM stdin;} is data, up to
 * its {@code \.} line, whatever its lines begin with (a value that begins with a carriage return and "estrict" is
 * written {@code \restrict …} there, and is a row). Streamed: only the first bytes of each line are looked at (a COPY
 * line of a gigabyte is never held whole).
 */
final class RestrictedSql extends InputStream {
    private static final byte[][] DROPPED = {"\\restrict ".getBytes(StandardCharsets.US_ASCII),
            "\\unrestrict ".getBytes(StandardCharsets.US_ASCII)};
    private static final byte[] COPY = "COPY ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] FROM_STDIN = " FROM stdin;".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END_OF_DATA = "\\.".getBytes(StandardCharsets.US_ASCII);
    /** How much of a line is looked at: enough for the longest dropped command, and for a COPY statement's end. */
    private static final int HEAD = 64 * 1024;

    private final InputStream in;
    private final byte[] line = new byte[HEAD];
    private int lineLength;
    private int linePos;
    /** The rest of a long line (beyond {@link #HEAD}) passes through as it comes. */
    private boolean passingRest;
    private boolean inCopyData;
    private boolean ended;

    private RestrictedSql(InputStream in) {
        this.in = new BufferedInputStream(in, 1 << 16);
    }

    /** {@code sql} behind a {@code \restrict} of {@code key}, the dump's own restrict lines left out. */
    static InputStream of(InputStream sql, String key) {
        return new SequenceInputStream(new java.io.ByteArrayInputStream(("\\restrict " + key + "\n").getBytes(StandardCharsets.US_ASCII)),
                new RestrictedSql(sql));
    }

    @Override
    public int read() throws IOException {
        while (true) {
            if (linePos < lineLength) {
                return line[linePos++] & 0xff;
            }
            if (passingRest) {
                int c = in.read();
                if (c < 0 || c == '\n') {
                    passingRest = false;
                }
                if (c >= 0) {
                    return c;
                }
            }
            if (ended || !nextLine()) {
                ended = true;
                return -1;
            }
        }
    }

    /** Reads the head of the next line into {@link #line}; false at the end. A top-level restrict line is skipped. */
    private boolean nextLine() throws IOException {
        lineLength = 0;
        linePos = 0;
        int c;
        while (lineLength < HEAD && (c = in.read()) >= 0) {
            line[lineLength++] = (byte) c;
            if (c == '\n') {
                break;
            }
        }
        if (lineLength == 0) {
            return false;
        }
        boolean whole = line[lineLength - 1] == '\n' || lineLength < HEAD;
        int content = line[lineLength - 1] == '\n' ? lineLength - 1 : lineLength;
        if (content > 0 && line[content - 1] == '\r') {
            content--;
        }
        if (inCopyData) {
            if (whole && content == END_OF_DATA.length && Arrays.equals(line, 0, content, END_OF_DATA, 0, content)) {
                inCopyData = false;
            }
        } else if (startsWithDropped()) {
            // the dump's own restriction: left out, to its end
            if (!whole) {
                skipRestOfLine();
            }
            lineLength = 0;
            return true;
        } else if (whole && startsWith(COPY) && endsWith(content, FROM_STDIN)) {
            // the data that follows is data, to its \. line
            inCopyData = true;
        }
        passingRest = !whole;
        return true;
    }

    private boolean startsWithDropped() {
        for (byte[] d : DROPPED) {
            if (startsWith(d)) {
                return true;
            }
        }
        return false;
    }

    private boolean startsWith(byte[] prefix) {
        return lineLength >= prefix.length && Arrays.equals(line, 0, prefix.length, prefix, 0, prefix.length);
    }

    private boolean endsWith(int content, byte[] suffix) {
        return content >= suffix.length && Arrays.equals(line, content - suffix.length, content, suffix, 0, suffix.length);
    }

    private void skipRestOfLine() throws IOException {
        int c;
        do {
            c = in.read();
        } while (c >= 0 && c != '\n');
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        int n = 0;
        while (n < len) {
            if (linePos < lineLength) {
                int chunk = Math.min(len - n, lineLength - linePos);
                System.arraycopy(line, linePos, b, off + n, chunk);
                linePos += chunk;
                n += chunk;
                continue;
            }
            int c = read();
            if (c < 0) {
                return n == 0 ? -1 : n;
            }
            b[off + n++] = (byte) c;
        }
        return n;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}

package com.odooupgradecourier.transfer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Header;

/**
 * The two ends of an HTTP download that resumes ({@code wget --continue} style): how many bytes are
 * already in the {@code .part} file (sent as {@code Range}), and, once the answer is on disk, whether the
 * file is complete: only then is it renamed to its final name.
 */
public class ResumableDownload {
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes\\s+(\\d+)-(\\d+)/(\\d+|\\*)");

    /** Bytes already downloaded into {@code partPath}. */
    public long offset(@ExchangeProperty("partPath") String partPath) throws IOException {
        Path part = Path.of(partPath);
        return Files.exists(part) ? Files.size(part) : 0;
    }

    /**
     * Checks the {@code .part} file against the size the server announced and renames it to
     * {@code targetPath}; a short file is an error (retried: the next attempt resumes from where it is).
     */
    public void complete(@ExchangeProperty("partPath") String partPath, @ExchangeProperty("targetPath") String targetPath,
                         @ExchangeProperty("offset") long offset, @Header("CamelHttpResponseCode") int status,
                         @Header("Content-Range") String contentRange, @Header("Content-Length") Long contentLength)
            throws IOException {
        Path part = Path.of(partPath);
        long have = Files.exists(part) ? Files.size(part) : 0;
        long expected = -1;
        if (contentRange != null) {
            Matcher m = CONTENT_RANGE.matcher(contentRange);
            if (m.find() && !m.group(3).equals("*")) {
                expected = Long.parseLong(m.group(3));
            }
        }
        if (expected < 0 && contentLength != null) {
            expected = status == 206 ? offset + contentLength : contentLength;
        }
        if (expected >= 0 && have != expected) {
            throw new IOException("download incomplete: " + have + " of " + expected + " bytes; it resumes at the next attempt");
        }
        Files.move(part, Path.of(targetPath), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}

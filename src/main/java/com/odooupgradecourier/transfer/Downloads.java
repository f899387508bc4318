package com.odooupgradecourier.transfer;

import com.odooupgradecourier.platform.TransientPlatformException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipFile;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Header;

/**
 * The ends of an HTTP download that resumes ({@code wget --continue} style) and knows when it is done: the
 * URL is checked (only the platform's host gets the request key in a URL), the bytes already in the
 * {@code .part} file are asked for no more ({@code Range}), and the file is complete only when its size is
 * what the server stated and, for an archive, its format checks out (a zip's central directory reads). With no
 * size stated, only a verified archive counts. Only then is the file renamed to its final name.
 */
public class Downloads {
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes\\s+(?:(\\d+)-(\\d+)|\\*)/(\\d+|\\*)");
    private static final int MAX_REDIRECTS = 5;

    private final Path downloadsDir;
    private final URI api;
    private final Set<String> hosts;

    /**
     * @param apiUrl        {@code upgrade.api-url}: its host is the platform's; its scheme and port are trusted too
     * @param extraHosts    {@code upgrade.download-hosts}: other hosts the platform serves archives from
     */
    public Downloads(Path dataDir, String apiUrl, Set<String> extraHosts) {
        this.downloadsDir = dataDir.resolve("downloads").toAbsolutePath();
        this.api = URI.create(apiUrl.trim());
        this.hosts = new java.util.HashSet<>();
        hosts.add(api.getHost().toLowerCase(Locale.ROOT));
        extraHosts.forEach(h -> hosts.add(h.trim().toLowerCase(Locale.ROOT)));
    }

    /** Where a dump's upgraded archive is downloaded to. */
    public String archivePath(@ExchangeProperty("dumpId") String dumpId) {
        return archiveIn(downloadsDir.getParent(), dumpId).toString();
    }

    /** Where a dump's upgraded archive is downloaded to, in the data folder {@code dataDir}. */
    public static Path archiveIn(Path dataDir, String dumpId) {
        return dataDir.resolve("downloads").toAbsolutePath().resolve(dumpId + ".archive");
    }

    /** Where a dump's upgrade notes are downloaded to. */
    public String notesPath(@ExchangeProperty("dumpId") String dumpId) {
        return downloadsDir.resolve(dumpId + ".notes.html").toString();
    }

    /** Where a dump's upgrade log is kept (read while the upgrade runs, replaced by the whole log at the download). */
    public String logPath(@ExchangeProperty("dumpId") String dumpId) {
        return downloadsDir.getParent().resolve("logs").toAbsolutePath().resolve(dumpId + ".log").toString();
    }

    public boolean exists(String path) {
        return path != null && Files.isRegularFile(Path.of(path));
    }

    /**
     * Before a GET of {@code downloadFrom}: checks the URL, sets {@code partPath} and {@code offset} (the
     * bytes already on disk) and the request headers ({@code Range} when resuming).
     */
    public void prepare(Exchange exchange) throws IOException, UnsafeUrlException {
        String url = exchange.getProperty("downloadFrom", String.class);
        check(url);
        Path part = Path.of(exchange.getProperty("targetPath", String.class) + ".part");
        Files.createDirectories(part.getParent());
        long offset = Files.exists(part) ? Files.size(part) : 0;
        exchange.setProperty("partPath", part.toString());
        exchange.setProperty("offset", offset);
        var headers = exchange.getMessage().getHeaders();
        headers.keySet().removeIf(k -> !k.startsWith("CamelRedeliver"));
        headers.put(Exchange.HTTP_METHOD, "GET");
        headers.put(Exchange.HTTP_URI, url);
        if (offset > 0) {
            headers.put("Range", "bytes=" + offset + "-");
        }
    }

    /**
     * A download URL is used only when it is on the platform's host (or one of {@code upgrade.download-hosts}),
     * over https, or with exactly the API's own scheme and port (the simulator): the key in it goes nowhere else.
     */
    public void check(String url) throws UnsafeUrlException {
        URI u;
        try {
            u = URI.create(String.valueOf(url).trim());
        } catch (IllegalArgumentException e) {
            throw new UnsafeUrlException("the platform gave a download URL that is not a URL");
        }
        String host = u.getHost() == null ? "" : u.getHost().toLowerCase(Locale.ROOT);
        String scheme = String.valueOf(u.getScheme()).toLowerCase(Locale.ROOT);
        boolean sameAsApi = scheme.equals(api.getScheme()) && port(u) == port(api);
        if (!hosts.contains(host) || !(scheme.equals("https") || sameAsApi)) {
            throw new UnsafeUrlException("the download URL is on " + scheme + "://" + host + ", not on the platform's host "
                    + hosts + " over https: it is not used (it carries the request key). If the platform now serves archives "
                    + "from there, add that host to upgrade.download-hosts");
        }
    }

    /** A redirect: followed (a few times at most) only to a URL that passes {@link #check}. */
    public void redirect(Exchange exchange, @Header("Location") String location) throws UnsafeUrlException, TransientPlatformException {
        int hops = exchange.getProperty("redirects", 0, Integer.class) + 1;
        if (location == null || hops > MAX_REDIRECTS) {
            throw new TransientPlatformException("the download was redirected " + (location == null ? "nowhere" : "too often"));
        }
        String next = URI.create(exchange.getProperty("downloadFrom", String.class)).resolve(location.trim()).toString();
        check(next);
        exchange.setProperty("redirects", hops);
        exchange.setProperty("downloadFrom", next);
    }

    /** A 206 answer must continue exactly where the file on disk ends; otherwise the part is started over. */
    public void checkRange(@ExchangeProperty("partPath") String partPath, @ExchangeProperty("offset") long offset,
                           @Header("Content-Range") String contentRange) throws IOException {
        Matcher m = contentRange == null ? null : CONTENT_RANGE.matcher(contentRange);
        if (m == null || !m.find() || m.group(1) == null || Long.parseLong(m.group(1)) != offset) {
            Files.deleteIfExists(Path.of(partPath));
            throw new IOException("the server answered the range from byte " + offset + " with " + contentRange
                    + ": the download starts over");
        }
    }

    /**
     * Once the answer is on disk: renames the {@code .part} file to {@code targetPath} when it is complete and
     * verified; otherwise fails (the next attempt resumes, or starts over when what is on disk is wrong).
     */
    /** The bytes the server is about to send fit where they go (with room to spare): else the download waits, nothing half-written. */
    public void requireSpace(@Header("Content-Length") Long length, @ExchangeProperty("partPath") String partPath) throws IOException {
        if (length != null && length > 0) {
            com.odooupgradecourier.support.NotEnoughSpaceException.require(Path.of(partPath).getParent(), length + (64L << 20),
                    "the upgraded archive");
        }
    }

    /** Whether the notes are to be downloaded: the platform named them, and they are not on disk yet. */
    public boolean notesWanted(String notesUrl, String notesPath) {
        return notesUrl != null && !notesUrl.isBlank() && !"null".equals(notesUrl) && notesPath != null
                && !Files.exists(Path.of(notesPath));
    }

    public void complete(@ExchangeProperty("partPath") String partPath, @ExchangeProperty("targetPath") String targetPath,
                         @ExchangeProperty("offset") long offset, @ExchangeProperty("verify") boolean verify,
                         @Header("CamelHttpResponseCode") int status, @Header("Content-Range") String contentRange,
                         @Header("Content-Length") Long contentLength) throws IOException, TransientPlatformException {
        Path part = Path.of(partPath);
        long have = Files.exists(part) ? Files.size(part) : 0;
        long expected = -1;
        Matcher m = contentRange == null ? null : CONTENT_RANGE.matcher(contentRange);
        if (m != null && m.find() && !m.group(3).equals("*")) {
            expected = Long.parseLong(m.group(3));
        } else if (contentLength != null && status != 416) {
            expected = status == 206 ? offset + contentLength : contentLength;
        }
        if (status == 416 && expected != have) {
            Files.deleteIfExists(part);
            throw new IOException("the server holds " + (expected < 0 ? "an unknown number of" : expected) + " bytes, the download "
                    + have + ": it starts over");
        }
        if (expected >= 0 && have != expected) {
            throw new IOException("download incomplete: " + have + " of " + expected + " bytes; it resumes at the next attempt");
        }
        if (verify) {
            Archive check = Archive.check(part);
            if (check == Archive.PAGE) {
                Files.deleteIfExists(part);
                throw new TransientPlatformException("the archive URL answered a web page instead of the archive (a maintenance "
                        + "page?): it is asked again later");
            }
            if (check == Archive.CORRUPT) {
                if (expected >= 0) {
                    Files.deleteIfExists(part);
                    throw new IOException("the downloaded archive (" + have + " bytes) is not a complete zip: it starts over");
                }
                throw new IOException("the download ended after " + have + " bytes with no size stated and the archive is not "
                        + "complete yet: it resumes at the next attempt");
            }
            if (check == Archive.UNKNOWN && expected < 0) {
                throw new IOException("the download ended after " + have + " bytes with no size stated: it is checked again");
            }
        }
        Files.move(part, Path.of(targetPath), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static int port(URI u) {
        return u.getPort() >= 0 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
    }

    /** What can be told of an archive on disk without reading it whole. */
    enum Archive {
        /** A zip whose central directory reads. */
        VERIFIED,
        /** A zip that is cut short or damaged. */
        CORRUPT,
        /** Another format: only its size can tell whether it is complete. */
        UNKNOWN,
        /** A web page (HTML), not a database archive at all. */
        PAGE;

        static Archive check(Path file) throws IOException {
            byte[] head;
            try (InputStream in = Files.newInputStream(file)) {
                head = in.readNBytes(512);
            }
            String text = new String(head, java.nio.charset.StandardCharsets.ISO_8859_1).stripLeading().toLowerCase(java.util.Locale.ROOT);
            if (text.startsWith("<!doctype html") || text.startsWith("<html") || text.startsWith("<?xml") || text.startsWith("<head")
                    || text.startsWith("<body")) {
                return PAGE;
            }
            if (head.length < 4 || head[0] != 'P' || head[1] != 'K' || head[2] != 3 || head[3] != 4) {
                return head.length == 0 ? CORRUPT : UNKNOWN;
            }
            try (ZipFile zip = new ZipFile(file.toFile())) {
                return zip.size() > 0 ? VERIFIED : CORRUPT;
            } catch (IOException e) {
                return CORRUPT;
            }
        }
    }

    /** A download URL off the platform's host: final, the key is never sent there. */
    public static class UnsafeUrlException extends Exception {
        public UnsafeUrlException(String message) {
            super(message);
        }
    }

    /** Whether a file is a zip (by its first bytes, not its name). */
    public static boolean isZip(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] head = in.readNBytes(4);
            return head.length == 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
        }
    }

    /** Verifies a file downloaded by other means (SFTP) whose size is known to be complete. */
    public static void verifyComplete(Path file) throws IOException {
        Archive check = Archive.check(file);
        if (check == Archive.CORRUPT || check == Archive.PAGE) {
            Files.deleteIfExists(file);
            throw new IOException("the downloaded archive is " + (check == Archive.PAGE ? "a web page" : "not a complete zip")
                    + ": it starts over");
        }
    }
}

package com.odooupgradecourier.dump;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import com.odooupgradecourier.support.FileChangedException;
import com.odooupgradecourier.support.FileStamp;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;

/**
 * Looks at a dropped file before anything is sent: is it a database dump the platform takes, how big
 * is it, what is its sha256. Reads the file as a stream, never whole into memory.
 */
public class DumpInspector {
    static final String ACCEPTED = "PostgreSQL custom format (pg_dump -Fc, starts with PGDMP), plain SQL as pg_dump "
            + "writes it, the same SQL gzipped (.sql.gz), or a .zip holding dump.sql (Odoo's backup format)";
    private static final int HEAD = 64 * 1024;
    private static final Pattern SQL = Pattern.compile(
            "(?m)(PostgreSQL database dump|^SET [a-z_]+ = |^CREATE (TABLE|SCHEMA|SEQUENCE|FUNCTION|EXTENSION) |^COPY [\\w.\"]+ .*FROM stdin;|^SELECT pg_catalog\\.)");
    private static final int MAX_PLATFORM_NAME = 100;
    /**
     * What a dump's sha256 is ({@code sha256_from}): provisional (read while it settled in the drop folder, before the
     * service's renames; or a retry brought it back from the failed folder), checked against the bytes sent; or read in
     * custody.
     */
    static final String PROVISIONAL = "provisional";
    static final String CUSTODY = "custody";

    private final SettleHashes hashes;

    public DumpInspector(SettleHashes hashes) {
        this.hashes = hashes;
    }

    /**
     * Inspects the dump at the exchange property {@code dumpPath} and sets the exchange properties
     * {@code dumpSize}, {@code dumpSha256}, {@code dumpFormat} and {@code platformFilename}.
     */
    public void inspect(Exchange exchange) throws BadDumpException, IOException {
        Path file = Path.of(exchange.getProperty("dumpPath", String.class));
        if (Files.isSymbolicLink(file) || !Files.isRegularFile(file)) {
            // a link could name any file the service may read (another customer's dump, its own keys)
            throw new BadDumpException("not a plain file (a link or a special file): it is not read. Drop the dump itself.");
        }
        if (!Files.isReadable(file)) {
            throw new BadDumpException("permission denied: the service's user cannot read " + exchange.getProperty("fileName")
                    + " — make it readable by the service's group (courier), e.g. chmod g+r, and drop it again.");
        }
        if (Files.size(file) == 0) {
            throw new BadDumpException("empty file: it holds 0 bytes. Drop a complete database dump: " + ACCEPTED + ".");
        }
        FileStamp before = FileStamp.of(file);
        FileStamp settled = hashes.settledAs(before.fileKey());
        if (settled != null && settled.contentMayDiffer(before)) {
            // written to after it was taken as complete: a copy that paused longer than the settle time
            throw changed(settled.text(), before);
        }
        String format = format(file);
        WholeDump.require(file, format);
        exchange.setProperty("dumpFormat", format);
        exchange.setProperty("dumpSize", before.size());
        // computed while the file settled in the drop folder when it is still that file (provisional: the bytes sent are
        // checked against it); read now otherwise
        SettleHashes.Sha256 sha256 = hashes.sha256Of(file);
        FileStamp after = FileStamp.of(file);
        if (!after.equals(before)) {
            throw changed(before.text(), after);
        }
        exchange.setProperty("dumpSha256", sha256.hex());
        exchange.setProperty("sha256From", sha256.whileSettling() ? PROVISIONAL : CUSTODY);
        // the file as it was hashed: checked again before its bytes go anywhere (checkUnchanged)
        exchange.setProperty("fileStamp", after.text());
        exchange.setProperty("platformFilename", platformName(exchange.getProperty("fileName", String.class)));
    }

    /**
     * The dump is still exactly the file that was hashed when it was taken (same file, size, modification and change
     * time): before it is uploaded, after, and before its upgrade is delivered. A dump admitted before stamps were kept
     * has none, and is not checked.
     *
     * @throws FileChangedException it changed: the bytes sent may not be the bytes hashed
     */
    public void checkUnchanged(@ExchangeProperty("dumpPath") String dumpPath, @ExchangeProperty("fileStamp") String stamp)
            throws IOException {
        if (dumpPath == null || stamp == null || stamp.isBlank()) {
            return;
        }
        FileStamp now = FileStamp.of(Path.of(dumpPath));
        if (!now.text().equals(stamp)) {
            throw changed(stamp, now);
        }
    }

    /** Why a dropped file whose name holds a backslash is not taken, and what to do. */
    public BadDumpException nameRefused(@ExchangeProperty("fileName") String name) {
        return new BadDumpException("the name holds a backslash (\\), which file transfers read as a folder separator: it is not "
                + "taken. Rename it without one (e.g. " + name.replace('\\', '_') + ") and drop it again.");
    }

    /** The sha256 of a file, read now. */
    public static String sha256(Path file) throws IOException {
        return SettleHashes.sha256(file);
    }

    /**
     * Before an upload that does not hash what it sends (SFTP in pieces over several channels, rsync): a sha256 made
     * while the dump settled, before the service's renames, is checked against the file as it is now (between the
     * checks that it is the file stamped when admitted); {@code sha256From} says it was read in custody then.
     *
     * @throws FileChangedException the file is not what was hashed while it settled
     */
    public void confirmSha256(Exchange exchange) throws IOException {
        if (!PROVISIONAL.equals(exchange.getProperty("sha256From", String.class))) {
            return;
        }
        String sha256 = exchange.getProperty("dumpSha256", String.class);
        String now = hashes.sha256Now(Path.of(exchange.getProperty("dumpPath", String.class)));
        if (!now.equals(sha256)) {
            throw new FileChangedException("the file changed while it was being taken — copy it again (it hashes to " + now
                    + ", not to the sha256 " + sha256 + " it had when it settled)");
        }
        exchange.setProperty("sha256From", CUSTODY);
    }

    /**
     * The bytes an HTTPS upload sent hash to the dump's sha256 ({@code sentSha256}, computed while they were sent).
     *
     * @throws FileChangedException they do not: the file changed while it was sent
     */
    public void checkSent(@ExchangeProperty("dumpSha256") String sha256, @ExchangeProperty("sentSha256") String sent)
            throws FileChangedException {
        if (sent != null && sha256 != null && !sent.equals(sha256)) {
            throw new FileChangedException("the file changed while it was being taken — copy it again (the bytes sent hash to "
                    + sent + ", not to the sha256 " + sha256 + " it had when it was taken)");
        }
    }

    private static FileChangedException changed(String was, FileStamp now) {
        return new FileChangedException("the file changed while it was being taken — copy it again (when it was taken: "
                + FileStamp.describe(was) + "; now: " + now.describe() + ")");
    }

    static String format(Path file) throws IOException, BadDumpException {
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(HEAD);
        }
        if (startsWith(head, "PGDMP".getBytes(StandardCharsets.US_ASCII))) {
            return "pgdump-custom";
        }
        if (head.length >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) {
            byte[] sql;
            try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
                sql = in.readNBytes(HEAD);
            } catch (IOException e) {
                throw new BadDumpException("corrupt gzip file (" + e.getMessage() + "): compress the dump again with gzip.");
            }
            if (!looksLikeSql(sql)) {
                throw new BadDumpException("this gzip file does not hold a SQL dump. Accepted formats: " + ACCEPTED + ".");
            }
            return "sql-gzip";
        }
        if (startsWith(head, new byte[] {'P', 'K', 3, 4})) {
            try (ZipFile zip = new ZipFile(file.toFile())) {
                ZipEntry entry = zip.getEntry("dump.sql");
                if (entry == null) {
                    throw new BadDumpException("this zip file holds no dump.sql. An Odoo backup zip (Database Manager → Backup, "
                            + "format zip) holds dump.sql at its root. Accepted formats: " + ACCEPTED + ".");
                }
                return "odoo-zip";
            } catch (ZipException e) {
                throw new BadDumpException("corrupt zip file (" + e.getMessage() + "): make the backup again.");
            }
        }
        if (looksLikeSql(head)) {
            return "sql";
        }
        throw new BadDumpException("not a database dump. Accepted formats: " + ACCEPTED + ".");
    }

    private static boolean looksLikeSql(byte[] head) {
        return SQL.matcher(new String(head, StandardCharsets.UTF_8)).find();
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

    /**
     * The name sent to the platform as {@code filename}: ASCII letters, digits, dot, dash and underscore
     * only, at most 100 characters, the extension kept. The user keeps their own name on our side.
     */
    public static String platformName(String name) {
        String ascii = Normalizer.normalize(name, Normalizer.Form.NFD).replaceAll("\\p{M}", "");
        String safe = ascii.replaceAll("[^A-Za-z0-9._-]+", "_").replaceAll("^[._]+", "");
        if (safe.isEmpty()) {
            safe = "dump";
        }
        if (safe.length() > MAX_PLATFORM_NAME) {
            int dot = safe.indexOf('.', Math.max(0, safe.length() - 12));
            String ext = dot > 0 ? safe.substring(dot) : "";
            safe = safe.substring(0, MAX_PLATFORM_NAME - ext.length()) + ext;
        }
        return safe;
    }
}

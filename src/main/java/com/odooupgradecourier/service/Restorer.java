package com.odooupgradecourier.service;

import com.odooupgradecourier.support.Secrets;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last mile: the delivered archive restored into a new PostgreSQL database, as Odoo's own client does after an
 * upgrade, with PostgreSQL's client programs ({@code createdb}, {@code psql}, {@code pg_restore}, {@code dropdb}).
 *
 * <p>The database is always one the courier creates: when the name is taken (a database, or a filestore folder of
 * that name) {@code _2}, {@code _3}, … are tried; an existing database is never dropped, emptied or written to. A
 * restore that fails drops only the database it created. The password reaches the programs through their
 * environment ({@code PGPASSWORD}), never their arguments.
 */
public class Restorer {
    private static final Logger LOG = LoggerFactory.getLogger("courier");
    /** The programs a restore runs. */
    static final List<String> TOOLS = List.of("createdb", "dropdb", "psql", "pg_restore");
    /** A database name the courier creates: lower case letters, digits and underscores, at most 63 bytes. */
    private static final Pattern NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
    /** A name the courier chooses or is given: at most 60 bytes, so a suffix (_99) fits PostgreSQL's 63. */
    private static final Pattern GIVEN_NAME = Pattern.compile("[a-z_][a-z0-9_]{0,59}");
    private static final Pattern JDBC = Pattern.compile("jdbc:postgresql://([^/:?]*)(?::(\\d+))?/([^?]*)(?:\\?.*)?");
    private static final int STDERR_LINES = 20;
    private static final Pattern ERROR_LINE = Pattern.compile("(?i)\\b(error|fatal|panic|could not|failed|already exists|"
            + "unsupported|restricted)\\b");
    private static final int MAX_SUFFIX = 99;

    private final String host;
    private final String port;
    private final String maintenanceDb;
    private final String user;
    private final String password;
    private final Path filestoreDir;
    private final String nameTemplate;
    private final int jobs;
    private final Path binDir;
    private final Path workDir;
    private final com.odooupgradecourier.store.Dumps dumps;

    /**
     * @param url          {@code courier.restore.url}: the JDBC URL of a maintenance database; empty: no restore
     * @param filestoreDir {@code courier.restore.filestore-dir} (Odoo's {@code data_dir/filestore}), or null
     * @param nameTemplate {@code courier.restore.name}, with {@code ${stem}} and {@code ${target}}
     * @param binDir       {@code courier.restore.bin-dir}, or null for the PATH
     * @param workDir      where a custom-format dump inside a zip is unpacked for {@code pg_restore}
     */
    public Restorer(String url, String user, String password, Path filestoreDir, String nameTemplate, int jobs, Path binDir,
                    Path workDir, com.odooupgradecourier.store.Dumps dumps) {
        this.dumps = dumps;
        url = url == null ? "" : url.trim();
        if (url.isEmpty()) {
            host = port = maintenanceDb = null;
        } else {
            java.util.regex.Matcher m = JDBC.matcher(url);
            if (!m.matches()) {
                throw new IllegalArgumentException("courier.restore.url must be jdbc:postgresql://host[:port]/database, not "
                        + Secrets.maskUri(url));
            }
            host = m.group(1).isEmpty() ? "localhost" : m.group(1);
            port = m.group(2) == null ? "5432" : m.group(2);
            maintenanceDb = m.group(3).isEmpty() ? "postgres" : m.group(3);
        }
        this.user = user == null ? "" : user.trim();
        this.password = password == null ? "" : password;
        this.filestoreDir = filestoreDir;
        this.nameTemplate = nameTemplate == null || nameTemplate.isBlank() ? "${stem}_${target}" : nameTemplate.trim();
        this.jobs = Math.max(1, jobs);
        this.binDir = binDir;
        this.workDir = workDir;
    }

    /** Whether restores are configured ({@code courier.restore.url} is set). */
    public boolean configured() {
        return host != null;
    }

    /** Where the restores go, for the log: {@code host:port} (never the password). */
    public String server() {
        return host + ":" + port;
    }

    /**
     * At start, when restores are configured: the client programs are there and answer; returns pg_restore's version.
     *
     * @throws IllegalStateException one line that says which programs are missing and where they were looked for
     */
    public String checkTools() {
        List<String> missing = TOOLS.stream().filter(t -> program(t) == null).toList();
        if (!missing.isEmpty()) {
            throw new IllegalStateException("courier.restore.url is set, but PostgreSQL's client programs " + missing + " are not "
                    + (binDir != null ? "in courier.restore.bin-dir (" + binDir + ")" : "on the PATH")
                    + ": install them (Debian: postgresql-client) or set courier.restore.bin-dir");
        }
        try {
            Result psql = run(List.of(program("psql").toString(), "--version"), null);
            if (!restrictsBackslashCommands(psql.stdout)) {
                throw new IllegalStateException("courier.restore.url is set, but " + psql.stdout.trim() + " cannot restrict an archive's "
                        + "backslash commands (\\restrict: psql 13.22, 14.19, 15.14, 16.10, 17.6 or newer): update PostgreSQL's "
                        + "client programs");
            }
            Result r = run(List.of(program("pg_restore").toString(), "--version"), null);
            if (r.exit != 0) {
                throw new IllegalStateException("pg_restore --version failed: " + r.stderr());
            }
            return r.stdout.trim();
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException("pg_restore cannot be run: " + e.getMessage());
        }
    }

    /** Whether {@code psql --version} names a psql with {@code \restrict} (the releases of August 2025 on). */
    static boolean restrictsBackslashCommands(String version) {
        java.util.regex.Matcher m = Pattern.compile("(\\d+)\\.(\\d+)").matcher(version == null ? "" : version);
        if (!m.find()) {
            return false;
        }
        int major = Integer.parseInt(m.group(1));
        int minor = Integer.parseInt(m.group(2));
        return switch (major) {
            case 13 -> minor >= 22;
            case 14 -> minor >= 19;
            case 15 -> minor >= 14;
            case 16 -> minor >= 10;
            case 17 -> minor >= 6;
            default -> major >= 18;
        };
    }

    /** Whether this dump is restored: configured, and not turned off by its settings file ({@code restore = false}). */
    public boolean wanted(@ExchangeProperty("restore") String restore, @ExchangeProperty("pgCompatible") String pgCompatible,
                          @ExchangeProperty("fileName") String fileName) {
        if (!configured() || "false".equalsIgnoreCase(restore == null ? "" : restore.trim())) {
            return false;
        }
        // upgrade.api = jsonrpc: the platform said the upgraded database may not restore on the client's PostgreSQL
        if ("false".equalsIgnoreCase(pgCompatible == null ? "" : pgCompatible.trim())) {
            LOG.warn("{}: not restored: the platform said the upgraded database may not restore on the client's PostgreSQL "
                    + "(is_pg_version_compatible = false); the archive is delivered, restore it on a newer PostgreSQL", fileName);
            return false;
        }
        return true;
    }

    /**
     * Checks a dump's own restore settings at admission: {@code restore} is true or false, {@code restore-name} a
     * database name the courier may create, and neither asks for a restore that is not configured.
     */
    public void checkSettings(@ExchangeProperty("restore") String restore, @ExchangeProperty("restoreName") String restoreName)
            throws com.odooupgradecourier.dump.BadDumpException {
        if (restore != null && !restore.isBlank() && !restore.trim().equalsIgnoreCase("true") && !restore.trim().equalsIgnoreCase("false")) {
            throw new com.odooupgradecourier.dump.BadDumpException("restore must be true or false in the dump's settings file");
        }
        if ("true".equalsIgnoreCase(restore == null ? "" : restore.trim()) && !configured()) {
            throw new com.odooupgradecourier.dump.BadDumpException("the dump's settings ask for a restore, but courier.restore.url "
                    + "is not set: set it, or drop the dump without restore = true");
        }
        if (restoreName != null && !restoreName.isBlank() && !GIVEN_NAME.matcher(restoreName.trim()).matches()) {
            throw new com.odooupgradecourier.dump.BadDumpException("restore-name must be a database name of lower-case letters, digits "
                    + "and underscores (at most 60, so that _2, _3, … fit; not starting with a digit)");
        }
    }

    /**
     * The database name a dump is restored as before a suffix: its {@code restore-name}, else the template with the
     * dump's file name without its extension and the target with dots as underscores, e.g. {@code acme.zip} to 17.0:
     * {@code acme_17_0}. Anything but letters, digits and underscores becomes an underscore.
     */
    public String baseName(String fileName, String target, String restoreName) {
        if (restoreName != null && !restoreName.isBlank()) {
            return restoreName.trim();
        }
        String stem = fileName;
        for (String ext : List.of(".gz", ".zip", ".dump", ".sql", ".backup", ".pgdump", ".tar")) {
            if (stem.toLowerCase(Locale.ROOT).endsWith(ext) && stem.length() > ext.length()) {
                stem = stem.substring(0, stem.length() - ext.length());
            }
        }
        String name = nameTemplate.replace("${stem}", stem).replace("${target}", target == null ? "" : target)
                .toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_").replaceAll("_+", "_");
        if (name.isEmpty() || !Character.isLetter(name.charAt(0)) && name.charAt(0) != '_') {
            name = "db_" + name;
        }
        // room for a suffix (_99) within PostgreSQL's 63 bytes
        return name.length() > 60 ? name.substring(0, 60) : name;
    }

    /**
     * Restores the exchange's downloaded archive ({@code archivePath}) into a database it creates, and its filestore
     * beside the others. A database a broken earlier attempt created ({@code restoredTo}) is dropped first. Sets
     * {@code restoredTo}; the store learns the name ({@code database-created}) as soon as the database exists.
     *
     * @throws RestoreFailedException the restore failed: the database it created is dropped again, the message ends
     *                                with the last lines the program wrote
     */
    public void restore(Exchange exchange) throws Exception {
        Path archive = Path.of(exchange.getProperty("archivePath", String.class));
        String fileName = exchange.getProperty("fileName", String.class);
        String earlier = exchange.getProperty("restoredTo", String.class);
        if (earlier != null && NAME.matcher(earlier).matches()) {
            // a restore cut short (a crash, a stop) left the database it created, and perhaps part of its filestore:
            // both are the courier's, and go, so the restore starts over under the same name
            dropQuietly(earlier);
            if (filestoreDir != null) {
                deleteTree(filestoreDir.resolve(earlier));
            }
            LOG.info("{}: the database {} a broken restore left was dropped; restoring again", fileName, earlier);
        }
        Kind kind = kind(archive);
        String base = baseName(fileName, exchange.getProperty("target", String.class), exchange.getProperty("restoreName", String.class));
        String name = createDatabase(base);
        exchange.setProperty("restoredTo", name);
        dumps.go(exchange, "database-created");
        Path filestore = filestoreDir == null ? null : filestoreDir.resolve(name);
        try {
            Path unpacked = null;
            try {
                switch (kind) {
                    case ODOO_ZIP_SQL -> psql(archive, name);
                    case ODOO_ZIP_CUSTOM -> {
                        unpacked = unpack(archive, "dump.sql", exchange.getProperty("dumpId", String.class));
                        pgRestore(unpacked, name);
                    }
                    case CUSTOM -> pgRestore(archive, name);
                    default -> throw new IllegalStateException(kind.name());
                }
            } finally {
                if (unpacked != null) {
                    Files.deleteIfExists(unpacked);
                }
            }
            if (kind != Kind.CUSTOM) {
                restoreFilestore(archive, filestore, fileName);
            }
        } catch (Exception e) {
            // only while this node still holds the dump: a node that lost it never drops what another restored
            dumps.fence(exchange.getProperty("dumpId", String.class), fileName);
            dropQuietly(name);
            if (filestore != null) {
                deleteTree(filestore);
            }
            exchange.setProperty("restoredTo", null);
            throw e instanceof RestoreFailedException ? e : new RestoreFailedException("restore into " + name + " failed: " + e.getMessage());
        }
    }

    /** What the archive holds, read from its bytes, never its name. */
    enum Kind { ODOO_ZIP_SQL, ODOO_ZIP_CUSTOM, CUSTOM }

    static Kind kind(Path archive) throws IOException, RestoreFailedException {
        if (!com.odooupgradecourier.transfer.Downloads.isZip(archive)) {
            try (InputStream in = Files.newInputStream(archive)) {
                if (isCustomFormat(in)) {
                    return Kind.CUSTOM;
                }
            }
            throw new RestoreFailedException("the archive is neither an Odoo zip (dump.sql and filestore/) nor a pg_dump "
                    + "custom-format archive: not restored");
        }
        try (ZipFile zip = new ZipFile(archive.toFile())) {
            ZipEntry dump = zip.getEntry("dump.sql");
            if (dump == null) {
                throw new RestoreFailedException("the archive is a zip without dump.sql: not restored");
            }
            try (InputStream in = zip.getInputStream(dump)) {
                return isCustomFormat(in) ? Kind.ODOO_ZIP_CUSTOM : Kind.ODOO_ZIP_SQL;
            }
        }
    }

    /** Whether a stream begins as pg_dump's custom format does ({@code PGDMP}). */
    private static boolean isCustomFormat(InputStream in) throws IOException {
        return new String(in.readNBytes(5), StandardCharsets.US_ASCII).equals("PGDMP");
    }

    /** Creates the first free database of {@code base}, {@code base_2}, … (a filestore folder of that name counts as taken). */
    private String createDatabase(String base) throws Exception {
        for (int i = 1; i <= MAX_SUFFIX; i++) {
            String name = i == 1 ? base : base + "_" + i;
            if (filestoreDir != null && Files.exists(filestoreDir.resolve(name), LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            Result r = run(List.of(program("createdb").toString(), "--maintenance-db=" + maintenanceDb, "--template=template0",
                    "--", name), null);
            if (r.exit == 0) {
                return name;
            }
            if (!r.stderr().contains("already exists")) {
                throw new RestoreFailedException("createdb " + name + " failed: " + r.stderr());
            }
        }
        throw new RestoreFailedException("the names " + base + " to " + base + "_" + MAX_SUFFIX + " are all taken");
    }

    /**
     * dump.sql into psql, behind psql's own {@code \restrict} with a key of this restore: no backslash command the
     * archive may hold runs ({@code \connect} to another database, {@code \!} a shell command, {@code \copy … program}),
     * only SQL. The archive's own "restrict" and "unrestrict" lines (pg_dump writes them) are left out.
     */
    private void psql(Path archive, String name) throws Exception {
        String key = java.util.HexFormat.of().formatHex(new java.security.SecureRandom().generateSeed(24));
        try (ZipFile zip = new ZipFile(archive.toFile());
             InputStream sql = new java.io.SequenceInputStream(
                     new java.io.ByteArrayInputStream(("\\restrict " + key + "\n").getBytes(StandardCharsets.US_ASCII)),
                     new RestrictLinesDropped(zip.getInputStream(zip.getEntry("dump.sql"))))) {
            Result r = run(List.of(program("psql").toString(), "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1",
                    "--dbname=" + name, "--file=-"), sql);
            if (r.exit != 0) {
                throw new RestoreFailedException("psql stopped at an error restoring into " + name + ": " + r.stderr());
            }
        }
    }

    private void pgRestore(Path dump, String name) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(program("pg_restore").toString(), "--no-owner", "--exit-on-error",
                "--dbname=" + name));
        if (jobs > 1) {
            cmd.add("--jobs=" + jobs);
        }
        cmd.add(dump.toString());
        Result r = run(cmd, null);
        if (r.exit != 0) {
            throw new RestoreFailedException("pg_restore failed restoring into " + name + ": " + r.stderr());
        }
    }

    /**
     * A plain SQL stream without its lines "restrict …" and "unrestrict …" (backslash commands), streamed: only the first bytes
     * of each line are looked at (a COPY line of a gigabyte is never held whole).
     */
    static final class RestrictLinesDropped extends InputStream {
        private static final byte[][] DROPPED = {"\\restrict ".getBytes(StandardCharsets.US_ASCII),
                "\\unrestrict ".getBytes(StandardCharsets.US_ASCII)};
        private final InputStream in;
        private final byte[] head = new byte[16];
        private int headLength;
        private int headPos;
        private boolean atLineStart = true;
        private boolean skipping;

        RestrictLinesDropped(InputStream in) {
            this.in = new java.io.BufferedInputStream(in, 1 << 16);
        }

        @Override
        public int read() throws IOException {
            while (true) {
                if (headPos < headLength) {
                    byte b = head[headPos++];
                    atLineStart = b == '\n';
                    return b & 0xff;
                }
                int c = in.read();
                if (c < 0) {
                    return -1;
                }
                if (skipping) {
                    if (c == '\n') {
                        skipping = false;
                        atLineStart = true;
                    }
                    continue;
                }
                if (!atLineStart || c != '\\') {
                    atLineStart = c == '\n';
                    return c;
                }
                // a line that begins with a backslash: its first bytes decide
                headLength = 0;
                headPos = 0;
                head[headLength++] = (byte) c;
                while (headLength < 13 && !matchesNone()) {
                    int n = in.read();
                    if (n < 0) {
                        break;
                    }
                    head[headLength++] = (byte) n;
                    if (n == '\n') {
                        break;
                    }
                }
                if (isDropped()) {
                    boolean wholeLine = head[headLength - 1] == '\n';
                    headLength = 0;
                    skipping = !wholeLine;
                    atLineStart = wholeLine;
                    continue;
                }
                atLineStart = false;
            }
        }

        private boolean matchesNone() {
            for (byte[] d : DROPPED) {
                if (java.util.Arrays.equals(head, 0, Math.min(headLength, d.length), d, 0, Math.min(headLength, d.length))) {
                    return false;
                }
            }
            return true;
        }

        private boolean isDropped() {
            for (byte[] d : DROPPED) {
                if (headLength >= d.length && java.util.Arrays.equals(head, 0, d.length, d, 0, d.length)) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = 0;
            while (n < len) {
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

    /** One entry of the zip, streamed to a file of its own in the work folder (pg_restore's parallel jobs need a file). */
    private Path unpack(Path archive, String entry, String dumpId) throws IOException {
        Files.createDirectories(workDir);
        Path out = workDir.resolve(dumpId + ".restore.dump");
        try (ZipFile zip = new ZipFile(archive.toFile()); InputStream in = zip.getInputStream(zip.getEntry(entry))) {
            Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
        }
        return out;
    }

    /** The zip's {@code filestore/…} entries, streamed to {@code <filestore-dir>/<database>/…}; nothing outside it. */
    private void restoreFilestore(Path archive, Path target, String fileName) throws IOException, RestoreFailedException {
        try (ZipFile zip = new ZipFile(archive.toFile())) {
            boolean any = false;
            for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
                ZipEntry e = en.nextElement();
                if (!e.getName().startsWith("filestore/") || e.isDirectory()) {
                    continue;
                }
                if (target == null) {
                    LOG.warn("{}: the archive has a filestore, but courier.restore.filestore-dir is not set: it is not restored", fileName);
                    return;
                }
                Path to = target.resolve(e.getName().substring("filestore/".length())).normalize();
                if (!to.startsWith(target) || to.equals(target)) {
                    throw new RestoreFailedException("the archive's entry " + e.getName() + " points outside the filestore: not restored");
                }
                Files.createDirectories(to.getParent());
                try (InputStream in = zip.getInputStream(e)) {
                    Files.copy(in, to);
                }
                any = true;
            }
            if (!any && target != null) {
                Files.createDirectories(target);
            }
        }
    }

    /** Drops a database the courier created; a failure is logged (it is left, never anything else). */
    private void dropQuietly(String name) {
        try {
            // --force: a program a crash left behind (psql of a killed service) may still be connected to it
            Result r = run(List.of(program("dropdb").toString(), "--maintenance-db=" + maintenanceDb, "--if-exists", "--force", "--",
                    name), null);
            if (r.exit != 0) {
                LOG.warn("The database {} the courier created could not be dropped: {}", name, r.stderr());
            }
        } catch (Exception e) {
            LOG.warn("The database {} the courier created could not be dropped: {}", name, e.getMessage());
        }
    }

    private static void deleteTree(Path dir) {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            com.odooupgradecourier.support.Moves.deleteTree(dir);
        } catch (IOException e) {
            LOG.warn("The filestore {} of a failed restore could not be removed: {}", dir, e.getMessage());
        }
    }

    /** The program from courier.restore.bin-dir or the PATH, or null. */
    Path program(String tool) {
        if (binDir != null) {
            Path p = binDir.resolve(tool);
            return Files.isExecutable(p) ? p : null;
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return Path.of(dir, tool);
            }
        }
        return null;
    }

    /** What a program did: its exit code, its standard output (short ones only) and its last lines of stderr. */
    record Result(int exit, String stdout, Deque<String> lastErr) {
        String stderr() {
            return String.join(" | ", lastErr).trim();
        }
    }

    /** Runs a program with the server's connection in its environment (the password too: never in its arguments). */
    private Result run(List<String> cmd, InputStream stdin) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Map<String, String> env = pb.environment();
        if (host != null) {
            env.put("PGHOST", host);
            env.put("PGPORT", port);
            if (!user.isEmpty()) {
                env.put("PGUSER", user);
            }
            if (!password.isEmpty()) {
                env.put("PGPASSWORD", password);
            }
        }
        env.put("PGCONNECT_TIMEOUT", "30");
        // the server and database are the configured ones, never the service's environment's
        for (String inherited : List.of("PGDATABASE", "PGHOSTADDR", "PGSERVICE", "PGSERVICEFILE", "PGOPTIONS", "PGSYSCONFDIR")) {
            env.remove(inherited);
        }
        pb.redirectInput(stdin == null ? ProcessBuilder.Redirect.from(new java.io.File("/dev/null")) : ProcessBuilder.Redirect.PIPE);
        Process p = pb.start();
        Deque<String> lastErr = new ArrayDeque<>();
        Thread err = daemon(() -> keepLast(p.getErrorStream(), lastErr));
        StringBuilder out = new StringBuilder();
        Thread std = daemon(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (out.length() < 4096) {
                        out.append(line).append('\n');
                    }
                }
            } catch (IOException ignored) {
                // the program ended
            }
        });
        if (stdin != null) {
            try (OutputStream to = p.getOutputStream()) {
                stdin.transferTo(to);
            } catch (IOException e) {
                // the program stopped reading (it stopped at an error): its exit code and stderr say why
            }
        }
        int exit = p.waitFor();
        err.join(TimeUnit.SECONDS.toMillis(10));
        std.join(TimeUnit.SECONDS.toMillis(10));
        Deque<String> kept = new ArrayDeque<>();
        synchronized (lastErr) {
            // only the error lines, each cut short: psql also repeats the statement (or a COPY row of customer data) it
            // failed on, which does not belong in a record, a page or an event; and never the password
            lastErr.stream().filter(l -> ERROR_LINE.matcher(l).find()).forEach(l -> {
                String line = password.isEmpty() ? l : l.replace(password, "***");
                kept.add(line.length() > 300 ? line.substring(0, 300) + "…" : line);
            });
        }
        return new Result(exit, out.toString(), kept);
    }

    private static Thread daemon(Runnable r) {
        Thread t = new Thread(r, "restore-output");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void keepLast(InputStream stderr, Deque<String> lastErr) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(stderr, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                synchronized (lastErr) {
                    lastErr.addLast(line.length() > 500 ? line.substring(0, 500) + "…" : line);
                    if (lastErr.size() > STDERR_LINES) {
                        lastErr.removeFirst();
                    }
                }
            }
        } catch (IOException ignored) {
            // the program ended
        }
    }

    /** A restore that failed: final for this attempt (a retry restores again). */
    public static class RestoreFailedException extends Exception {
        public RestoreFailedException(String message) {
            super(message);
        }
    }
}

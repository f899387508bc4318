package com.odooupgradecourier.restore;

import com.odooupgradecourier.store.Dumps;
import com.odooupgradecourier.store.Queue;
import com.odooupgradecourier.support.Moves;
import com.odooupgradecourier.support.NotEnoughSpaceException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last mile: the delivered archive restored into a new PostgreSQL database, as Odoo's own client does after an
 * upgrade, with PostgreSQL's client programs ({@code psql}, {@code pg_restore}), its filestore beside the others.
 *
 * <p>What a dump may do: its SQL runs as a role of this restore's own, which owns the new database and nothing else
 * (dropping or renaming another database, changing another role, are refused; the configured role's credentials are
 * out of its reach); only SQL runs (psql's {@code \restrict}). The database is always one the courier makes, recorded
 * before it is made and marked as made for this dump: a restore that fails, or is cut short, drops it (and only it).
 * Afterwards the database and everything in it go to {@code courier.restore.owner} and the restore's role is dropped.
 */
public class Restorer {
    private static final Logger LOG = LoggerFactory.getLogger("courier");
    /** A name the courier chooses or is given: at most 60 bytes, so a suffix (_99) fits PostgreSQL's 63. */
    private static final Pattern GIVEN_NAME = Pattern.compile("[a-z_][a-z0-9_]{0,59}");
    /** A database name a restore may have made. */
    private static final Pattern NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
    /** A source database's name, as its filestore folder is named. */
    private static final Pattern SOURCE_DATABASE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");
    private static final int MAX_SUFFIX = 99;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final RestoreSettings settings;
    private final RestoreServer server;
    private final Programs programs;
    private final Path workDir;
    private final Dumps dumps;
    private final Queue queue;

    /** @param workDir where a dump inside a zip is unpacked for {@code pg_restore} */
    public Restorer(RestoreSettings settings, Path workDir, Dumps dumps, Queue queue) {
        this.settings = settings;
        this.server = settings.configured() ? new RestoreServer(settings.url(), settings.user(), settings.password()) : null;
        this.programs = new Programs(settings.binDir(), settings.timeout());
        this.workDir = workDir;
        this.dumps = dumps;
        this.queue = queue;
    }

    /** Whether restores are configured ({@code courier.restore.url} is set). */
    public boolean configured() {
        return server != null;
    }

    /** Whether restored databases are handed to the configured role itself (courier.restore.owner not set). */
    public boolean ownedByTheConfiguredRole() {
        return settings.owner().isEmpty();
    }

    /** Where the restores go, for the log: {@code host:port} (never the password). */
    public String server() {
        return server.host + ":" + server.port;
    }

    /**
     * At start, when restores are configured: the client programs are there and answer; returns pg_restore's version.
     *
     * @throws IllegalStateException one line that says which programs are missing and where they were looked for
     */
    public String checkTools() {
        List<String> missing = programs.missing();
        if (!missing.isEmpty()) {
            throw new IllegalStateException("courier.restore.url is set, but PostgreSQL's client programs " + missing + " are not "
                    + programs.where() + ": install them (Debian: postgresql-client) or set courier.restore.bin-dir");
        }
        try {
            String psql = version("psql");
            if (!restrictsBackslashCommands(psql)) {
                throw new IllegalStateException("courier.restore.url is set, but " + psql.trim() + " cannot restrict an archive's "
                        + "backslash commands (\\restrict: psql 13.22, 14.19, 15.14, 16.10, 17.6 or newer): update PostgreSQL's "
                        + "client programs");
            }
            return version("pg_restore").trim();
        } catch (IOException | InterruptedException | RestoreFailedException e) {
            throw new IllegalStateException("pg_restore cannot be run: " + e.getMessage());
        }
    }

    private String version(String tool) throws IOException, InterruptedException, RestoreFailedException {
        Programs.Result r = programs.run(tool, List.of("--version"), java.util.Map.of(), null, Duration.ofSeconds(30), null);
        if (r.exit() != 0) {
            throw new RestoreFailedException(tool + " --version failed: " + r.stderr());
        }
        return r.stdout();
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
     * database name the courier may create, {@code source-database} a folder name, and none asks for a restore that is
     * not configured.
     */
    public void checkSettings(@ExchangeProperty("restore") String restore, @ExchangeProperty("restoreName") String restoreName,
                              @ExchangeProperty("sourceDatabase") String sourceDatabase)
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
        if (sourceDatabase != null && !sourceDatabase.isBlank() && !SOURCE_DATABASE.matcher(sourceDatabase.trim()).matches()) {
            throw new com.odooupgradecourier.dump.BadDumpException("source-database must be the name of the database the dump was "
                    + "made from (letters, digits, _ . -), as its filestore folder is named");
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
        String name = settings.nameTemplate().replace("${stem}", stem).replace("${target}", target == null ? "" : target)
                .toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_").replaceAll("_+", "_");
        if (name.isEmpty() || !Character.isLetter(name.charAt(0)) && name.charAt(0) != '_') {
            name = "db_" + name;
        }
        // room for a suffix (_99) within PostgreSQL's 63 bytes
        return name.length() > 60 ? name.substring(0, 60) : name;
    }

    /**
     * Restores the exchange's downloaded archive ({@code archivePath}) into a database it makes, and its filestore
     * beside the others. What an earlier attempt made ({@code restoredTo}, {@code restoreRole}) is dropped first. Sets
     * {@code restoredTo}, {@code filestorePath}, {@code missingAttachments} and {@code neutralized}; the store learns the
     * database's name and role ({@code database-created}) before they are made.
     *
     * @throws RestoreFailedException      final: what it made is dropped, the message ends with the program's last lines
     * @throws RestoreUnavailableException the server went away (or a folder is short of space): taken up again later
     */
    public void restore(Exchange exchange) throws Exception {
        String dumpId = exchange.getProperty("dumpId", String.class);
        String fileName = exchange.getProperty("fileName", String.class);
        long deadline = System.nanoTime() + settings.timeout().toNanos();
        try {
            cleanUp(exchange);
            Archive archive = Archive.read(Path.of(exchange.getProperty("archivePath", String.class)));
            checkVersion(exchange.getProperty("pgVersion", String.class));
            requireSpace(archive, dumpId);
            String role = "courier_restore_" + HexFormat.of().formatHex(RANDOM.generateSeed(6));
            String password = HexFormat.of().formatHex(RANDOM.generateSeed(24));
            String name = make(exchange, role, password,
                    baseName(fileName, exchange.getProperty("target", String.class), exchange.getProperty("restoreName", String.class)));
            Path filestore = settings.filestoreDir() == null ? null : settings.filestoreDir().resolve(name);
            try {
                load(archive, role, password, name, dumpId, deadline);
                Filestores.merge(exchange, archive, filestore, settings.sourceFilestoreDir());
                // as the restore's own role, never the configured one: what the archive named (a view, a function) may run
                // here, and runs with the rights of the archive's own role. Its password is set again first: the archive
                // may have changed it, and what it set for the role or the database (a search_path to decoys) is reset
                String checking = HexFormat.of().formatHex(RANDOM.generateSeed(24));
                server.resetForChecks(role, checking, name);
                try (Connection c = server.connect(name, role, checking)) {
                    try (java.sql.Statement s = c.createStatement()) {
                        s.execute("SET search_path = public");
                    }
                    exchange.setProperty("neutralized", "test".equalsIgnoreCase(exchange.getProperty("aim", String.class))
                            ? RestoredDatabase.neutralize(c, fileName) : null);
                    exchange.setProperty("missingAttachments", filestore == null ? null : RestoredDatabase.missingAttachments(c, filestore));
                    RestoredDatabase.runAsTheirCaller(c, fileName);
                }
                server.handOver(name, role, settings.owner().isEmpty() ? server.user() : settings.owner());
                exchange.setProperty("restoreRole", null);
                exchange.setProperty("filestorePath", filestore == null || !Files.isDirectory(filestore) ? null : filestore.toString());
            } catch (Exception e) {
                // only while this node still holds the dump: a node that lost it never drops what another restored
                queue.fence(dumpId, fileName);
                dropQuietly(exchange, name, role, filestore);
                throw e;
            }
        } catch (SQLException e) {
            if (isConnectionLost(e)) {
                throw new RestoreUnavailableException("the PostgreSQL server " + server() + " could not be reached: " + e.getMessage(), e);
            }
            throw new RestoreFailedException("restore failed: " + e.getMessage(), e);
        } catch (RestoreFailedException | RestoreUnavailableException | NotEnoughSpaceException e) {
            throw e;
        } catch (IOException e) {
            throw new RestoreFailedException("restore failed: " + e.getMessage(), e);
        }
    }

    /**
     * What an earlier attempt made and recorded ({@code restoredTo}, its role, its filestore folder) is dropped, so the
     * restore starts over under a name of its own. Done before a retry, and when a restore that met a fault that may pass
     * is taken up again.
     */
    public void cleanUp(Exchange exchange) throws SQLException {
        String earlier = exchange.getProperty("restoredTo", String.class);
        String role = exchange.getProperty("restoreRole", String.class);
        String dumpId = exchange.getProperty("dumpId", String.class);
        if (earlier != null && NAME.matcher(earlier).matches()) {
            if (server.dropIfMadeFor(earlier, dumpId, role)) {
                LOG.info("{}: the database {} a broken restore left was dropped; restoring again", exchange.getProperty("fileName"), earlier);
                if (settings.filestoreDir() != null) {
                    deleteTree(settings.filestoreDir().resolve(earlier));
                }
            }
        }
        if (role != null && RestoreServer.ROLE.matcher(role).matches()) {
            server.dropRole(role);
        }
        exchange.setProperty("restoredTo", null);
        exchange.setProperty("restoreRole", null);
    }

    /**
     * Drops a database a restore made for {@code dumpId} (its mark names that dump), with its filestore folder: a rehearsal
     * database beyond the kept count. Anything else of that name is left alone.
     *
     * @return whether it was dropped
     */
    public boolean dropMadeFor(String database, String dumpId) throws SQLException {
        if (!configured() || database == null || !NAME.matcher(database).matches()) {
            return false;
        }
        boolean dropped = server.dropIfMadeFor(database, dumpId, null);
        if (dropped && settings.filestoreDir() != null) {
            deleteTree(settings.filestoreDir().resolve(database));
        }
        return dropped;
    }

    /** Makes the role and the first free database of {@code base}, {@code base_2}, …, each recorded before it is made. */
    private String make(Exchange exchange, String role, String password, String base) throws Exception {
        requireRights();
        for (int i = 1; i <= MAX_SUFFIX; i++) {
            String name = i == 1 ? base : base + "_" + i;
            if (settings.filestoreDir() != null && Files.exists(settings.filestoreDir().resolve(name), LinkOption.NOFOLLOW_LINKS)
                    || server.exists(name)) {
                continue;
            }
            exchange.setProperty("restoredTo", name);
            exchange.setProperty("restoreRole", role);
            dumps.go(exchange, "database-created");
            if (server.create(role, password, name, exchange.getProperty("dumpId", String.class))) {
                return name;
            }
        }
        server.dropRole(role);
        throw new RestoreFailedException("the names " + base + " to " + base + "_" + MAX_SUFFIX + " are all taken");
    }

    /** The configured role may make roles and databases: said in one sentence, with what to run, when it may not. */
    private void requireRights() throws SQLException, RestoreFailedException {
        try (Connection c = server.connect(server.maintenanceDb);
             ResultSet rs = c.createStatement().executeQuery("select rolcreatedb, rolcreaterole, current_user from pg_roles "
                     + "where rolname = current_user")) {
            if (rs.next() && !(rs.getBoolean(1) && rs.getBoolean(2))) {
                throw new RestoreFailedException("the role " + rs.getString(3) + " (courier.restore.user) needs CREATEDB and CREATEROLE "
                        + "to restore each archive as a role of its own: ALTER ROLE " + rs.getString(3) + " CREATEDB CREATEROLE");
            }
        }
    }

    /** The server is not older than the database the platform upgraded (v1's status names its PostgreSQL). */
    private void checkVersion(String pgVersion) throws SQLException, RestoreFailedException {
        java.util.regex.Matcher m = Pattern.compile("^\\s*(\\d+)").matcher(pgVersion == null ? "" : pgVersion);
        if (!m.find()) {
            return;
        }
        int wanted = Integer.parseInt(m.group(1));
        int major = server.majorVersion();
        if (major < wanted) {
            throw new RestoreFailedException("the PostgreSQL server " + server() + " runs PostgreSQL " + major + ", older than "
                    + wanted + ", the version of the upgraded database (the platform's status): restore it on PostgreSQL " + wanted
                    + " or newer");
        }
    }

    /** What is unpacked for pg_restore, and the filestore, fit where they go. */
    private void requireSpace(Archive archive, String dumpId) throws IOException {
        if (archive.zip() && archive.kind() != Archive.Kind.SQL && archive.kind() != Archive.Kind.SQL_GZIP) {
            NotEnoughSpaceException.require(workDir, archive.size() + (64L << 20), "the dump unpacked for pg_restore");
        }
        if (settings.filestoreDir() != null && archive.zip()) {
            long filestore = 0;
            try (ZipFile zip = new ZipFile(archive.file().toFile())) {
                for (String e : archive.filestoreEntries(zip)) {
                    filestore += Math.max(0, zip.getEntry(e).getSize());
                }
            }
            NotEnoughSpaceException.require(settings.filestoreDir(), filestore + (16L << 20), "the filestore of " + dumpId);
        }
    }

    /** The dump into the new database, as the restore's own role. */
    private void load(Archive archive, String role, String password, String name, String dumpId, long deadline) throws Exception {
        java.util.Map<String, String> as = server.connection(role, password, name);
        Path unpacked = null;
        try (ZipFile zip = archive.zip() ? new ZipFile(archive.file().toFile()) : null) {
            switch (archive.kind()) {
                case SQL, SQL_GZIP -> {
                    String key = HexFormat.of().formatHex(RANDOM.generateSeed(24));
                    try (InputStream sql = RestrictedSql.of(archive.sql(zip), key)) {
                        check("psql", name, programs.run("psql", List.of("--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", "--file=-"),
                                as, sql, left(deadline), password));
                    }
                }
                case CUSTOM -> {
                    Path file = archive.file();
                    if (zip != null) {
                        unpacked = unpack(zip, archive.entry(), workDir.resolve(dumpId + ".restore.dump"));
                        file = unpacked;
                    }
                    pgRestore(file, false, as, name, deadline, password);
                }
                case DIRECTORY -> {
                    unpacked = workDir.resolve(dumpId + ".restore.d");
                    Moves.deleteTree(unpacked);
                    for (java.util.Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
                        ZipEntry e = en.nextElement();
                        String rest = e.getName().substring(Math.min(e.getName().length(), archive.entry().length()));
                        if (e.getName().startsWith(archive.entry()) && !e.isDirectory() && !rest.contains("/") && !rest.contains("..")) {
                            unpack(zip, e.getName(), unpacked.resolve(rest));
                        }
                    }
                    pgRestore(unpacked, true, as, name, deadline, password);
                }
                default -> throw new IllegalStateException(archive.kind().name());
            }
        } finally {
            if (unpacked != null) {
                Moves.deleteTree(unpacked);
            }
        }
    }

    private void pgRestore(Path dump, boolean directory, java.util.Map<String, String> as, String name, long deadline, String password)
            throws Exception {
        List<String> args = new ArrayList<>(List.of("--no-owner", "--exit-on-error", "--dbname=" + name));
        if (directory) {
            args.add("--format=directory");
        }
        if (settings.jobs() > 1) {
            args.add("--jobs=" + settings.jobs());
        }
        args.add(dump.toString());
        check("pg_restore", name, programs.run("pg_restore", args, as, null, left(deadline), password));
    }

    private void check(String tool, String name, Programs.Result r) throws RestoreFailedException, RestoreUnavailableException {
        if (r.exit() == 0) {
            return;
        }
        if (r.serverGone()) {
            throw new RestoreUnavailableException(tool + " lost the PostgreSQL server " + server() + " restoring into " + name + ": "
                    + r.stderr());
        }
        String owners = tool.equals("psql") && r.stderr().contains("must be member of role")
                ? " (the dump sets owners, ALTER … OWNER TO: a plain dump restores here when made with pg_dump --no-owner, as Odoo's "
                + "backups are, or in custom format, pg_dump -Fc)" : "";
        throw new RestoreFailedException(tool.equals("psql") ? "psql stopped at an error restoring into " + name + ": " + r.stderr() + owners
                : "pg_restore failed restoring into " + name + ": " + r.stderr());
    }

    private Duration left(long deadline) throws RestoreFailedException {
        long nanos = deadline - System.nanoTime();
        if (nanos <= 0) {
            throw new RestoreFailedException("the restore ran longer than courier.restore.timeout (" + settings.timeout().toSeconds()
                    + " s)");
        }
        return Duration.ofNanos(nanos);
    }

    /** Drops what a failed restore made (while the server answers: otherwise it stays recorded, and goes at the next attempt). */
    private void dropQuietly(Exchange exchange, String name, String role, Path filestore) {
        try {
            server.dropIfMadeFor(name, exchange.getProperty("dumpId", String.class), role);
            server.dropRole(role);
            exchange.setProperty("restoredTo", null);
            exchange.setProperty("restoreRole", null);
            if (filestore != null) {
                deleteTree(filestore);
            }
        } catch (Exception e) {
            LOG.warn("{}: the database {} the restore made could not be dropped now ({}): it is dropped when the restore is taken up "
                    + "again", exchange.getProperty("fileName"), name, e.getMessage());
        }
    }

    /** One entry of the zip, streamed to a file of its own in the work folder (pg_restore's parallel jobs need a file). */
    private static Path unpack(ZipFile zip, String entry, Path out) throws IOException {
        Files.createDirectories(out.getParent());
        try (InputStream in = zip.getInputStream(zip.getEntry(entry))) {
            Files.copy(in, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        return out;
    }

    private static void deleteTree(Path dir) {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            Moves.deleteTree(dir);
        } catch (IOException e) {
            LOG.warn("The filestore {} of a failed restore could not be removed: {}", dir, e.getMessage());
        }
    }

    private static boolean isConnectionLost(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s && s.getSQLState() != null && (s.getSQLState().startsWith("08") || s.getSQLState().startsWith("57P"))) {
                return true;
            }
        }
        return false;
    }
}

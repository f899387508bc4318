package com.odooupgradecourier;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The PostgreSQL server the store's, cluster's and restore's tests run against: {@code COURIER_TEST_POSTGRES_URL} (with
 * {@code _USER} and {@code _PASSWORD}) when set; otherwise a server of the test JVM's own, started once from the machine's
 * PostgreSQL programs ({@code initdb}, {@code pg_ctl}: Debian's {@code postgresql} package) in a folder of its own, on a
 * free port, and stopped when the JVM ends. Run as root (as CI is), the server runs as the {@code postgres} user (or
 * {@code nobody}): PostgreSQL refuses to run as root. Without either, a test that needs PostgreSQL is skipped saying so,
 * and fails in CI, like the other programs the README lists.
 */
public final class TestPostgres {
    private static final AtomicInteger FRESH = new AtomicInteger();
    private static volatile String ownUrl;

    private TestPostgres() {
    }

    public static String url() {
        String url = System.getenv("COURIER_TEST_POSTGRES_URL");
        return url != null && !url.isBlank() ? url : own();
    }

    public static String user() {
        return System.getenv().getOrDefault("COURIER_TEST_POSTGRES_USER", "courier");
    }

    public static String password() {
        return System.getenv().getOrDefault("COURIER_TEST_POSTGRES_PASSWORD", "courier");
    }

    /**
     * A new, empty database of this test's own on the server (so tests of parallel test JVMs never meet), dropped when
     * the JVM ends.
     */
    public static String freshUrl() throws Exception {
        String url = url();
        String db = "courier_t" + ProcessHandle.current().pid() + "_" + FRESH.incrementAndGet();
        try (Connection c = DriverManager.getConnection(url, user(), password()); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + db);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try (Connection c = DriverManager.getConnection(url, user(), password()); Statement s = c.createStatement()) {
                s.execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
            } catch (Exception ignored) {
                // a server of our own goes with its folder anyway
            }
        }));
        return url.substring(0, url.lastIndexOf('/') + 1) + db;
    }

    private static synchronized String own() {
        if (ownUrl == null) {
            Path bin;
            try {
                bin = binDir();
            } catch (IOException e) {
                // like the other programs the README lists (Tools.require): a failure in CI, a skipped test elsewhere
                String missing = "PostgreSQL's programs are not installed (Debian: apt-get install postgresql) and "
                        + "COURIER_TEST_POSTGRES_URL is not set: " + e.getMessage();
                if ("true".equals(System.getenv("CI"))) {
                    throw new IllegalStateException(missing + "; CI must have them (.ci/run)");
                }
                org.junit.jupiter.api.Assumptions.abort(missing + ": test skipped");
                throw new IllegalStateException(missing);
            }
            try {
                ownUrl = start(bin);
            } catch (Exception e) {
                throw new IllegalStateException("a PostgreSQL server of the tests' own could not be started from " + bin + ": "
                        + e.getMessage(), e);
            }
        }
        return ownUrl;
    }

    /**
     * initdb, pg_ctl start, a role courier (CREATEDB CREATEROLE) and its database courier_test. Passwords are checked with
     * md5, not scram: the store connects once per transaction, and scram's key stretching made the state machine's tests
     * eight times slower; what is tested of roles and passwords is the same.
     */
    private static String start(Path bin) throws Exception {
        Path dir = Files.createTempDirectory("courier-test-pg");
        String owner = "root".equals(System.getProperty("user.name")) ? (userExists("postgres") ? "postgres" : "nobody") : null;
        if (owner != null) {
            run(List.of("chown", owner, dir.toString()), null);
        }
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path data = dir.resolve("data");
        run(List.of(bin.resolve("initdb").toString(), "-D", data.toString(), "-U", "postgres", "--auth-local=trust",
                "--auth-host=md5", "-E", "UTF8", "--no-sync"), owner);
        run(List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-l", dir.resolve("server.log").toString(), "-w", "-o",
                "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 -c password_encryption=md5", "start"), owner);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                run(List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "immediate", "stop"), owner);
                try (var walk = Files.walk(dir)) {
                    walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            } catch (Exception ignored) {
                // the JVM ends
            }
        }));
        run(List.of(bin.resolve("psql").toString(), "-h", dir.toString(), "-p", String.valueOf(port), "-U", "postgres", "-d", "postgres",
                "-v", "ON_ERROR_STOP=1", "-c", "CREATE ROLE " + user() + " LOGIN CREATEDB CREATEROLE PASSWORD '" + password() + "'",
                "-c", "CREATE DATABASE courier_test OWNER " + user()), owner);
        return "jdbc:postgresql://127.0.0.1:" + port + "/courier_test";
    }

    /** Where initdb and pg_ctl are: the PATH, or the newest of Debian's /usr/lib/postgresql/<version>/bin. */
    private static Path binDir() throws IOException {
        for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path initdb = Path.of(d, "initdb");
            if (!d.isEmpty() && Files.isExecutable(initdb) && Files.isExecutable(Path.of(d, "pg_ctl"))) {
                return initdb.toRealPath().getParent();
            }
        }
        Path debian = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(debian)) {
            try (var versions = Files.list(debian)) {
                List<Path> bins = new ArrayList<>(versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("initdb")))
                        .toList());
                bins.sort(Comparator.comparingInt(b -> Integer.parseInt(b.getParent().getFileName().toString().replaceAll("\\D", "0"))));
                if (!bins.isEmpty()) {
                    return bins.get(bins.size() - 1);
                }
            }
        }
        throw new IOException("initdb and pg_ctl are on neither the PATH nor in /usr/lib/postgresql/*/bin");
    }

    private static boolean userExists(String user) throws Exception {
        Process p = new ProcessBuilder("id", "-u", user).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor() == 0;
    }

    /** Runs a program (as {@code owner}, when root hands it over), to its end; a failure says what it printed. */
    private static void run(List<String> cmd, String owner) throws Exception {
        List<String> full = new ArrayList<>();
        if (owner != null) {
            full.addAll(List.of("runuser", "-u", owner, "--"));
        }
        full.addAll(cmd);
        Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out.trim());
        }
    }

    // ------------------------------------------------------------------ databases of the test server, for the tests

    /** The name of the database {@link #url()} points at (the one to create and drop other databases from). */
    public static String maintenanceDb() {
        String db = url().substring(url().lastIndexOf('/') + 1);
        return db.contains("?") ? db.substring(0, db.indexOf('?')) : db;
    }

    /** The JDBC URL of database {@code db} on the test server. */
    public static String dbUrl(String db) {
        return url().substring(0, url().lastIndexOf('/') + 1) + db;
    }

    /** The first column of the first row {@code sql} gives in database {@code db} (which must give one). */
    public static String query(String db, String sql) throws Exception {
        try (Connection c = DriverManager.getConnection(dbUrl(db), user(), password());
             Statement s = c.createStatement(); java.sql.ResultSet rs = s.executeQuery(sql)) {
            org.assertj.core.api.Assertions.assertThat(rs.next()).as(sql).isTrue();
            return rs.getString(1);
        }
    }

    /** Runs {@code sql} in database {@code db}. */
    public static void update(String db, String sql) throws Exception {
        try (Connection c = DriverManager.getConnection(dbUrl(db), user(), password()); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /** Whether the test server has a database of this name. */
    public static boolean databaseExists(String db) throws Exception {
        try (Connection c = DriverManager.getConnection(url(), user(), password());
             var s = c.prepareStatement("select count(*) from pg_database where datname = ?")) {
            s.setString(1, db);
            try (java.sql.ResultSet rs = s.executeQuery()) {
                return rs.next() && rs.getInt(1) == 1;
            }
        }
    }
}

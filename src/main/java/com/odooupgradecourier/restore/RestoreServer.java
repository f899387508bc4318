package com.odooupgradecourier.restore;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The PostgreSQL server restores go to, as the configured role ({@code courier.restore.user}, with CREATEDB and
 * CREATEROLE) sees it: it makes a role of each restore's own and its database, hands the database over to
 * {@code courier.restore.owner} afterwards, and drops what a restore left. Nothing here touches a database or role the
 * courier did not make: a database is the courier's only when its comment names the dump it was made for.
 */
final class RestoreServer {
    private static final Pattern JDBC = Pattern.compile("jdbc:postgresql://([^/:?]*)(?::(\\d+))?/([^?]*)(?:\\?.*)?");
    /** A role of the courier's own, made for one restore. */
    static final Pattern ROLE = Pattern.compile("courier_restore_[0-9a-f]{12}");
    /** The mark in a database's comment that says which dump it was made for. */
    private static final String MARK = "made by odoo-upgrade-courier for dump ";

    final String host;
    final String port;
    final String maintenanceDb;
    private final String user;
    private final String password;

    RestoreServer(String url, String user, String password) {
        Matcher m = JDBC.matcher(url);
        if (!m.matches()) {
            throw new IllegalArgumentException("courier.restore.url must be jdbc:postgresql://host[:port]/database, not "
                    + com.odooupgradecourier.support.Secrets.maskUri(url));
        }
        host = m.group(1).isEmpty() ? "localhost" : m.group(1);
        port = m.group(2) == null ? "5432" : m.group(2);
        maintenanceDb = m.group(3).isEmpty() ? "postgres" : m.group(3);
        this.user = user == null ? "" : user.trim();
        this.password = password == null ? "" : password;
    }

    /** The configured role's name (the owner of restored databases unless courier.restore.owner names another). */
    String user() throws SQLException {
        if (!user.isEmpty()) {
            return user;
        }
        try (Connection c = connect(maintenanceDb); ResultSet rs = c.createStatement().executeQuery("select current_user")) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** The environment a client program connects with, as {@code role} (its password) to {@code database}. */
    Map<String, String> connection(String role, String rolePassword, String database) {
        return Map.of("PGHOST", host, "PGPORT", port, "PGUSER", role, "PGPASSWORD", rolePassword, "PGDATABASE", database);
    }

    /** The server's major version (13, 14, …). */
    int majorVersion() throws SQLException {
        try (Connection c = connect(maintenanceDb); ResultSet rs = c.createStatement().executeQuery("show server_version_num")) {
            rs.next();
            return Integer.parseInt(rs.getString(1).trim()) / 10_000;
        }
    }

    /** Whether a database of this name exists. */
    boolean exists(String database) throws SQLException {
        try (Connection c = connect(maintenanceDb);
             PreparedStatement s = c.prepareStatement("select 1 from pg_database where datname = ?")) {
            s.setString(1, database);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next();
            }
        }
    }

    /**
     * Makes the restore's own login role and its database, owned by that role and marked as the courier's for this dump:
     * the archive's SQL, run as that role, owns this database and nothing else.
     *
     * @return false when a database of that name exists already (another name is to be tried)
     */
    boolean create(String role, String rolePassword, String database, String dumpId) throws SQLException {
        requireRole(role);
        try (Connection c = connect(maintenanceDb); Statement s = c.createStatement()) {
            if (!roleExists(c, role)) {
                s.execute("CREATE ROLE " + ident(role) + " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD "
                        + literal(rolePassword));
                // to make a database owned by it and hand that over later, the configured role must be one of it
                s.execute("GRANT " + ident(role) + " TO CURRENT_USER");
            }
            try {
                s.execute("CREATE DATABASE " + ident(database) + " OWNER " + ident(role) + " TEMPLATE template0");
            } catch (SQLException e) {
                if ("42P04".equals(e.getSQLState())) {
                    return false;
                }
                throw e;
            }
            s.execute("COMMENT ON DATABASE " + ident(database) + " IS " + literal(MARK + dumpId));
            return true;
        }
    }

    /**
     * The database restored: everything in it, and the database itself, handed over to {@code owner}; only its owner may
     * connect to it (PUBLIC's CONNECT and TEMPORARY revoked: grant them to whom you choose); the restore's role dropped.
     */
    void handOver(String database, String role, String owner) throws SQLException {
        requireRole(role);
        try (Connection c = connect(database); Statement s = c.createStatement()) {
            s.execute("REASSIGN OWNED BY " + ident(role) + " TO " + ident(owner));
            s.execute("DROP OWNED BY " + ident(role));
        }
        try (Connection c = connect(maintenanceDb); Statement s = c.createStatement()) {
            s.execute("REVOKE CONNECT, TEMPORARY ON DATABASE " + ident(database) + " FROM PUBLIC");
            s.execute("ALTER DATABASE " + ident(database) + " OWNER TO " + ident(owner));
        }
        dropRole(role);
    }

    /**
     * Readies a restore's own role for the courier's checks in {@code database}: a new password (the archive's SQL may have
     * changed the one it was made with), and every setting the archive gave the role or the database (a search_path that
     * hides Odoo's tables behind decoys, a role to switch to) reset.
     */
    void resetForChecks(String role, String rolePassword, String database) throws SQLException {
        requireRole(role);
        try (Connection c = connect(maintenanceDb); Statement s = c.createStatement()) {
            s.execute("ALTER ROLE " + ident(role) + " PASSWORD " + literal(rolePassword));
            s.execute("ALTER ROLE " + ident(role) + " RESET ALL");
            s.execute("ALTER ROLE " + ident(role) + " IN DATABASE " + ident(database) + " RESET ALL");
            s.execute("ALTER DATABASE " + ident(database) + " RESET ALL");
        }
    }

    /**
     * Drops a database this courier made for {@code dumpId} (owned by the restore's own role {@code role}, or, once handed
     * over, its comment says so): any session still in it is ended. Anything else of that name is left alone.
     *
     * @return whether a database was dropped
     */
    boolean dropIfMadeFor(String database, String dumpId, String role) throws SQLException {
        try (Connection c = connect(maintenanceDb);
             PreparedStatement s = c.prepareStatement("select shobj_description(oid, 'pg_database'), pg_get_userbyid(datdba) "
                     + "from pg_database where datname = ?")) {
            s.setString(1, database);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    return false;
                }
                // the restore's own role owns what it made and cannot give it away (that takes CREATEDB); the mark in the
                // comment, which that role may rewrite, only counts once the database was handed over
                boolean ownedByTheRestoresRole = role != null && ROLE.matcher(role).matches() && role.equals(rs.getString(2));
                if (!ownedByTheRestoresRole && !(MARK + dumpId).equals(rs.getString(1))) {
                    return false;
                }
            }
            try (Statement drop = c.createStatement()) {
                drop.execute("DROP DATABASE IF EXISTS " + ident(database) + " WITH (FORCE)");
            }
            return true;
        }
    }

    /** Drops a role a restore made (it owns nothing any more, or only in a database dropped before). */
    void dropRole(String role) throws SQLException {
        requireRole(role);
        try (Connection c = connect(maintenanceDb); Statement s = c.createStatement()) {
            if (roleExists(c, role)) {
                s.execute("DROP ROLE IF EXISTS " + ident(role));
            }
        }
    }

    /** A connection to {@code database} as the configured role. */
    Connection connect(String database) throws SQLException {
        return connect(database, user, password);
    }

    /** A connection to {@code database} as {@code role}. */
    Connection connect(String database, String role, String rolePassword) throws SQLException {
        Properties p = new Properties();
        if (role != null && !role.isEmpty()) {
            p.setProperty("user", role);
        }
        if (rolePassword != null && !rolePassword.isEmpty()) {
            p.setProperty("password", rolePassword);
        }
        p.setProperty("connectTimeout", "30");
        p.setProperty("socketTimeout", "600");
        return DriverManager.getConnection("jdbc:postgresql://" + host + ":" + port + "/" + encode(database), p);
    }

    private static boolean roleExists(Connection c, String role) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select 1 from pg_roles where rolname = ?")) {
            s.setString(1, role);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static void requireRole(String role) {
        if (!ROLE.matcher(role).matches()) {
            throw new IllegalArgumentException("not a role of the courier's own: " + role);
        }
    }

    /** A name as an SQL identifier, quoted. */
    static String ident(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    private static String literal(String text) {
        return "'" + text.replace("'", "''") + "'";
    }

    private static String encode(String database) {
        return java.net.URLEncoder.encode(database, java.nio.charset.StandardCharsets.UTF_8);
    }
}

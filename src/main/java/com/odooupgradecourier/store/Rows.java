package com.odooupgradecourier.store;

import com.odooupgradecourier.support.KeyCipher;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;
import org.apache.camel.Body;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;

/**
 * The rows of dumps as the routes see them: which exchange property holds each column, request keys (and the platform
 * URLs that carry them) sealed at rest with {@code courier.store.secret}, plain JDBC, and the reads and single-column
 * writes that are not a step of a dump's journey (those are {@link Dumps#go transitions}).
 */
public class Rows {
    /** What is written over a connection inside a transaction. */
    @FunctionalInterface
    public interface Work {
        void run(Connection c) throws SQLException;
    }

    /** Which exchange property holds the value of each column the routes read or write. */
    public static final Map<String, String> PROPERTY_OF = columns(
            "id", "dumpId", "file_name", "fileName", "path", "dumpPath", "size", "dumpSize", "sha256", "dumpSha256",
            "format", "dumpFormat", "platform_name", "platformFilename", "contract", "contract", "email", "email",
            "target", "target", "aim", "aim", "timezone", "timezone", "request_id", "requestId", "request_key", "requestKey",
            "state", "state", "customer_message", "customerMessage", "status_url", "statusUrl", "download_url", "downloadUrl",
            "notes_url", "notesUrl", "elapsed", "elapsed", "estimated_time", "estimatedTime", "delivered_to", "deliveredName",
            "step", "dumpStep", "received_millis", "receivedMillis", "attempts", "attempts", "last_error", "lastError",
            "failed_step", "failedStep", "next_attempt_at", "nextAttemptAt", "what_to_do", "whatToDo",
            "delivery_name", "deliveryNameBefore", "restore", "restore", "restore_name", "restoreName", "restored_to", "restoredTo",
            "host_uri", "hostUri", "env_vars", "envVars", "pg_compatible", "pgCompatible", "file_stamp", "fileStamp",
            "restore_role", "restoreRole", "filestore_path", "filestorePath", "missing_attachments", "missingAttachments",
            "neutralized", "neutralized", "source_database", "sourceDatabase", "pg_version", "pgVersion",
            "source", "source", "sha256_from", "sha256From");
    /** The steps of a dump the platform no longer works on, as an SQL list: such a dump is not in flight. */
    static final String LEFT_PLATFORM = Step.sqlList(Step::leftPlatform);
    /** Columns that hold the request key (itself, or in a platform URL): sealed with courier.store.secret. */
    static final Set<String> SEALED = Set.of("request_key", "status_url", "download_url", "notes_url", "env_vars");
    /** Columns of text from the platform or errors: the key is masked out of them before they are stored. */
    static final Set<String> MASKED = Set.of("customer_message", "last_error", "what_to_do");
    private static final Set<String> NUMBERS = Set.of("size", "request_id", "request_created_millis", "received_millis",
            "next_attempt_at", "lease_until", "attempts", "missing_attachments");

    private final DataSource store;
    private final KeyCipher keys;

    /** @param keys how request keys are kept at rest ({@code courier.store.secret}) */
    public Rows(DataSource store, KeyCipher keys) {
        this.store = store;
        this.keys = keys;
    }

    DataSource store() {
        return store;
    }

    KeyCipher keys() {
        return keys;
    }

    /** Sets the exchange properties of a dump from its row (the body), e.g. {@code dumpId}, {@code requestKey}. */
    public void load(Exchange exchange, @Body Map<String, Object> row) {
        row.forEach((column, value) -> {
            String property = PROPERTY_OF.get(column.toLowerCase(Locale.ROOT));
            if (property != null) {
                exchange.setProperty(property, SEALED.contains(column.toLowerCase(Locale.ROOT)) ? keys.open((String) value) : value);
            }
        });
        exchange.setProperty("previousState", row.get("state"));
    }

    /** Writes one column of the exchange's dump without changing its step (e.g. {@code path} after a move). */
    public void update(Exchange exchange, String column) throws SQLException {
        String property = PROPERTY_OF.get(column);
        if (property == null || column.equals("step")) {
            throw new IllegalArgumentException("not a column that can be written alone: " + column);
        }
        try (Connection c = store.getConnection()) {
            update(c, "update dumps set " + column + " = ?, updated_at = CURRENT_TIMESTAMP where id = ?",
                    value(column, exchange.getProperty(property)), exchange.getProperty("dumpId", String.class));
        }
    }

    /**
     * Keeps {@code name} as the name the exchange's dump is delivered under, unless another dump has it (each name is
     * chosen by one dump only, ever). Returns whether the name is this dump's now.
     */
    public boolean claimName(Exchange exchange, String name) throws SQLException {
        try (Connection c = store.getConnection()) {
            return update(c, "update dumps set delivery_name = ? where id = ?", name, exchange.getProperty("dumpId", String.class)) == 1;
        } catch (SQLException e) {
            if (isUniqueViolation(e)) {
                return false;
            }
            throw e;
        }
    }

    /** The file name of another unfinished dump with this sha256, or null. */
    public String twinInFlight(String sha256, String id) throws SQLException {
        if (sha256 == null) {
            return null;
        }
        try (Connection c = store.getConnection()) {
            List<Map<String, Object>> twin = query(c, "select file_name from dumps where sha256 = ? and id <> ? "
                    + "and step not in (" + LEFT_PLATFORM + ")", 1, sha256, id);
            return twin.isEmpty() ? null : (String) twin.get(0).get("file_name");
        }
    }

    /** Whether this service can read the request keys the store keeps encrypted (courier.store.secret is set). */
    public boolean opensKeys() {
        return keys != KeyCipher.NONE;
    }

    /** The dump's file as it is now (a retry brought it back into custody): later checks compare with this. */
    public void restamp(String id, String stamp) throws SQLException {
        try (Connection c = store.getConnection()) {
            // out of custody, anyone who could write the failed folder could write it: its sha256 is checked against it
            // again before an upload that does not hash what it sends (SFTP, rsync); HTTPS hashes what it sends
            update(c, "update dumps set file_stamp = ?, sha256_from = 'provisional' where id = ?", stamp, id);
        }
    }

    /** Where a dump's file is now, written without changing its step. */
    public void movedTo(String id, String path) throws SQLException {
        try (Connection c = store.getConnection()) {
            update(c, "update dumps set path = ?, updated_at = CURRENT_TIMESTAMP where id = ?", path, id);
        }
    }

    /**
     * With {@code courier.store.secret} set: every key and platform URL still stored as it came (written before the
     * secret was set) is sealed now.
     */
    public int sealAll() throws SQLException {
        if (keys == KeyCipher.NONE) {
            return 0;
        }
        int sealed = 0;
        try (Connection c = store.getConnection()) {
            for (Map<String, Object> row : query(c, "select id, request_key, status_url, download_url, notes_url, env_vars from dumps", Integer.MAX_VALUE)) {
                for (String column : SEALED) {
                    Object v = row.get(column);
                    if (v instanceof String s && !KeyCipher.isSealed(s)) {
                        sealed += update(c, "update dumps set " + column + " = ? where id = ?", keys.seal(s), row.get("id"));
                    }
                }
            }
        }
        return sealed;
    }

    /** One request key the store holds encrypted (of a dump not yet delivered), or null. */
    public String aSealedKey() throws SQLException {
        try (Connection c = store.getConnection()) {
            List<Map<String, Object>> rows = query(c, "select request_key from dumps where request_key like 'aesgcm:%' and step <> 'delivered'", 1);
            return rows.isEmpty() ? null : (String) rows.get(0).get("request_key");
        }
    }

    /** The request key (or token) of a dump, opened; null when it has none. */
    public String requestKey(String id) throws SQLException {
        try (Connection c = store.getConnection()) {
            List<Map<String, Object>> rows = query(c, "select request_key from dumps where id = ?", 1, id);
            return rows.isEmpty() || rows.get(0).get("request_key") == null ? null : keys.open((String) rows.get(0).get("request_key"));
        }
    }

    /** Whether the store has a row of this id. */
    public boolean exists(String id) throws SQLException {
        try (Connection c = store.getConnection()) {
            return !query(c, "select id from dumps where id = ?", 1, id).isEmpty();
        }
    }

    /** The row of a dump by its id, or the newest failed one with that file name; null when there is none. */
    public Map<String, Object> find(String idOrName) throws SQLException {
        try (Connection c = store.getConnection()) {
            List<Map<String, Object>> rows = query(c, "select * from dumps where id = ?", 1, idOrName);
            if (rows.isEmpty()) {
                rows = query(c, "select * from dumps where file_name = ? order by case when step = 'failed' then 0 else 1 end, "
                        + "received_millis desc", 1, idOrName);
            }
            return rows.isEmpty() ? null : rows.get(0);
        }
    }

    /** Every dump, oldest first ({@code --once}). */
    public List<Map<String, Object>> all() throws SQLException {
        try (Connection c = store.getConnection()) {
            return query(c, "select id, file_name, step, request_id, delivered_to, last_error, path from dumps order by created_at",
                    Integer.MAX_VALUE);
        }
    }

    /** The newest rows, of one step or all (the status page), newest first. */
    public List<Map<String, Object>> newest(String step, int max) throws SQLException {
        String order = " order by coalesce(received_millis, 0) desc, id desc";
        try (Connection c = store.getConnection()) {
            return step == null ? query(c, "select * from dumps" + order, max)
                    : query(c, "select * from dumps where step = ?" + order, max, step);
        }
    }

    /** A property's value as its column holds it: numbers as 64-bit integers, the rest as text. */
    static Object value(String column, Object value) {
        if (value == null) {
            return null;
        }
        if (!NUMBERS.contains(column)) {
            return String.valueOf(value);
        }
        String text = String.valueOf(value).trim();
        return text.isEmpty() ? null : Long.valueOf(text);
    }

    public static boolean isUniqueViolation(SQLException e) {
        return "23505".equals(e.getSQLState()) || String.valueOf(e.getMessage()).contains("UNIQUE constraint failed");
    }

    // ---------------------------------------------------------------- JDBC

    public static int update(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            bind(s, args);
            return s.executeUpdate();
        }
    }

    /** The rows a query gives (at most {@code max}), each as a map of lower-case column names to values. */
    public static List<Map<String, Object>> query(Connection c, String sql, int max, Object... args) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            bind(s, args);
            s.setMaxRows(max);
            try (ResultSet rs = s.executeQuery()) {
                return rows(rs);
            }
        }
    }

    static List<Map<String, Object>> rows(ResultSet rs) throws SQLException {
        ResultSetMetaData md = rs.getMetaData();
        List<Map<String, Object>> rows = new ArrayList<>();
        while (rs.next()) {
            Map<String, Object> row = new LinkedHashMap<>();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                row.put(md.getColumnLabel(i).toLowerCase(Locale.ROOT), rs.getObject(i));
            }
            rows.add(row);
        }
        return rows;
    }

    static void bind(PreparedStatement s, Object... args) throws SQLException {
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a == null) {
                s.setNull(i + 1, Types.NULL);
            } else if (a instanceof Long l) {
                s.setLong(i + 1, l);
            } else if (a instanceof Integer n) {
                s.setInt(i + 1, n);
            } else if (a instanceof Double d) {
                s.setDouble(i + 1, d);
            } else {
                s.setString(i + 1, String.valueOf(a));
            }
        }
    }

    private static Map<String, String> columns(String... pairs) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return Map.copyOf(m);
    }
}

package com.odooupgradecourier;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/** What the tests read from (and write to) a store: one value, a column, a row, with plain JDBC. */
public final class TestStore {
    private final DataSource ds;

    public TestStore(DataSource ds) {
        this.ds = ds;
    }

    /** The one value of the one row the query gives (null for SQL NULL); fails when there is no row. */
    public <T> T queryForObject(String sql, Class<T> type, Object... args) {
        List<T> values = queryForList(sql, type, args);
        if (values.size() != 1) {
            throw new IllegalStateException("expected one row, got " + values.size() + ": " + sql);
        }
        return values.get(0);
    }

    /** The first column of every row. */
    public <T> List<T> queryForList(String sql, Class<T> type, Object... args) {
        List<T> out = new ArrayList<>();
        run(sql, args, rs -> {
            while (rs.next()) {
                out.add(value(rs, type));
            }
        });
        return out;
    }

    /** The one row the query gives, column names in lower case. */
    public Map<String, Object> queryForMap(String sql, Object... args) {
        List<Map<String, Object>> rows = new ArrayList<>();
        run(sql, args, rs -> {
            ResultSetMetaData md = rs.getMetaData();
            while (rs.next()) {
                Map<String, Object> row = new LinkedHashMap<>();
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    row.put(md.getColumnLabel(i).toLowerCase(java.util.Locale.ROOT), rs.getObject(i));
                }
                rows.add(row);
            }
        });
        if (rows.size() != 1) {
            throw new IllegalStateException("expected one row, got " + rows.size() + ": " + sql);
        }
        return rows.get(0);
    }

    public int update(String sql, Object... args) {
        try (Connection c = ds.getConnection(); PreparedStatement s = c.prepareStatement(sql)) {
            bind(s, args);
            return s.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private interface Rows {
        void read(ResultSet rs) throws SQLException;
    }

    private void run(String sql, Object[] args, Rows rows) {
        try (Connection c = ds.getConnection(); PreparedStatement s = c.prepareStatement(sql)) {
            bind(s, args);
            try (ResultSet rs = s.executeQuery()) {
                rows.read(rs);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void bind(PreparedStatement s, Object[] args) throws SQLException {
        for (int i = 0; i < args.length; i++) {
            s.setObject(i + 1, args[i]);
        }
    }

    private static <T> T value(ResultSet rs, Class<T> type) throws SQLException {
        Object v = type == Integer.class ? (Object) rs.getInt(1) : type == Long.class ? (Object) rs.getLong(1)
                : type == String.class ? rs.getString(1) : type == Boolean.class ? (Object) rs.getBoolean(1) : rs.getObject(1);
        return rs.wasNull() ? null : type.cast(v);
    }
}

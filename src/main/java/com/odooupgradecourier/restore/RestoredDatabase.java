package com.odooupgradecourier.restore;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What is checked and made safe in a database once it is restored, over the restore's own connection to it: the role's
 * and the database's settings reset first, search_path public, every table named with its schema (what Odoo will see).
 */
final class RestoredDatabase {
    private static final Logger LOG = LoggerFactory.getLogger("courier");

    private RestoredDatabase() {
    }

    /**
     * A test database must not reach the world: the platform neutralizes test upgrades ({@code database.is_neutralized});
     * when it did not, the courier does (restore/neutralize.sql). Null when the database is not Odoo's (no
     * ir_config_parameter).
     *
     * @return {@code platform} or {@code courier}
     */
    static String neutralize(Connection c, String fileName) throws SQLException, IOException {
        try (Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("select to_regclass('public.ir_config_parameter') is not null")) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    return null;
                }
            }
            try (ResultSet rs = s.executeQuery("select value from public.ir_config_parameter where key = 'database.is_neutralized'")) {
                if (rs.next() && List.of("true", "1").contains(String.valueOf(rs.getString(1)).trim().toLowerCase(Locale.ROOT))) {
                    return "platform";
                }
            }
            try (InputStream sql = RestoredDatabase.class.getResourceAsStream("/restore/neutralize.sql")) {
                s.execute(new String(sql.readAllBytes(), StandardCharsets.UTF_8));
            }
        }
        LOG.warn("{}: the platform did not neutralize this test database: neutralized by the courier (scheduled actions, outgoing "
                + "and incoming mail servers, payment providers and shipping carriers' production accounts off)", fileName);
        return "courier";
    }

    /**
     * Functions and procedures of the archive's that ran as their owner ({@code SECURITY DEFINER}) are made to run as their
     * caller: once handed over they would run with the rights of the database's owner, for anyone who may call them.
     * Run as the restore's own role, which owns them.
     */
    static void runAsTheirCaller(Connection c, String fileName) throws SQLException {
        List<String> definers = new ArrayList<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select p.oid::regprocedure::text from pg_catalog.pg_proc p "
                     + "where p.prosecdef and p.proowner = (select r.oid from pg_catalog.pg_roles r where r.rolname = current_user)")) {
            while (rs.next()) {
                definers.add(rs.getString(1));
            }
        }
        try (Statement s = c.createStatement()) {
            for (String routine : definers) {
                s.execute("ALTER ROUTINE " + routine + " SECURITY INVOKER");
            }
        }
        if (!definers.isEmpty()) {
            LOG.warn("{}: the archive's {} ran as their owner (SECURITY DEFINER): they now run as their caller, so they cannot act "
                    + "with the rights of the database's owner", fileName, definers.size() == 1 ? "function " + definers.get(0)
                    : definers.size() + " functions (" + String.join(", ", definers.subList(0, Math.min(5, definers.size())))
                    + (definers.size() > 5 ? ", …" : "") + ")");
        }
    }

    /** How many attachments the database names that its filestore does not hold. */
    static Long missingAttachments(Connection c, Path filestore) throws SQLException {
        try (Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("select to_regclass('public.ir_attachment') is not null")) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    return null;
                }
            }
            s.setFetchSize(10_000);
            c.setAutoCommit(false);
            List<String> files = new ArrayList<>();
            long missing = 0;
            try (ResultSet rs = s.executeQuery("select store_fname from public.ir_attachment where store_fname is not null and store_fname <> ''")) {
                while (rs.next()) {
                    files.add(rs.getString(1));
                    if (files.size() == 10_000) {
                        missing += Filestores.missing(filestore, files);
                        files.clear();
                    }
                }
            }
            c.commit();
            return missing + Filestores.missing(filestore, files);
        }
    }
}

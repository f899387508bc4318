package com.odooupgradecourier.service;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.Map;
import javax.sql.DataSource;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/** Readiness beyond Camel's own: the store answers, and the drop folder can be used. */
public final class Checks {
    private Checks() {
    }

    public static final class StoreCheck extends AbstractHealthCheck {
        private final DataSource store;
        private final Path sqliteFile;

        /** @param sqliteFile the SQLite store's file, or null for PostgreSQL */
        public StoreCheck(DataSource store, Path sqliteFile) {
            super("courier", "store");
            this.store = store;
            this.sqliteFile = sqliteFile;
            setEnabled(true);
        }

        @Override
        public boolean isLiveness() {
            return false;
        }

        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            if (sqliteFile != null && !Files.isRegularFile(sqliteFile)) {
                builder.message("the store's file (courier.db in courier.data-dir) is gone").down();
                return;
            }
            // for real: the table of dumps answers a query
            try (Connection c = store.getConnection(); var rs = c.createStatement().executeQuery("select count(*) from dumps where 1 = 0")) {
                rs.next();
                builder.up();
            } catch (Exception e) {
                builder.message("the store is not available: " + e.getMessage()).down();
            }
        }
    }

    public static final class DropFolderCheck extends AbstractHealthCheck {
        private final Path drop;

        public DropFolderCheck(Path drop) {
            super("courier", "drop-folder");
            this.drop = drop;
        }

        @Override
        public boolean isLiveness() {
            return false;
        }

        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            if (Files.isDirectory(drop) && Files.isReadable(drop) && Files.isWritable(drop)) {
                builder.detail("path", drop.toString()).up();
            } else {
                builder.message("the drop folder (courier.drop-dir) is missing or not readable and writable").down();
            }
        }
    }
}

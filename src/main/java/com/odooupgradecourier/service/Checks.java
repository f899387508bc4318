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

    /**
     * With a cluster: the shared lock folder can be used. Without it no node can lead, and no dump moves: DOWN (and
     * one WARN line when it goes), so the operator learns of a lost mount instead of a silent stand-still.
     */
    public static final class LockFolderCheck extends AbstractHealthCheck {
        private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger("courier");
        private final Path lockDir;
        private volatile boolean wasUp = true;

        public LockFolderCheck(Path lockDir) {
            super("courier", "cluster-lock-folder");
            this.lockDir = lockDir;
        }

        @Override
        public boolean isLiveness() {
            return false;
        }

        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            boolean up = Files.isDirectory(lockDir) && Files.isReadable(lockDir) && Files.isWritable(lockDir);
            if (up) {
                builder.detail("path", lockDir.toString()).up();
            } else {
                builder.message("the cluster's lock folder (courier.cluster.lock-dir) " + lockDir + " cannot be used: no node can "
                        + "lead, no dump moves").down();
                if (wasUp) {
                    LOG.warn("The cluster's lock folder {} cannot be used (a lost mount?): no node can lead until it is back", lockDir);
                }
            }
            wasUp = up;
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

    /**
     * The output: a local folder ({@code file:}) must be a folder the service can write to, or deliveries wait; any other
     * endpoint is reached only when a delivery is made (its state is that delivery's).
     */
    public static final class OutputCheck extends AbstractHealthCheck {
        private final Path folder;
        private final String shown;

        /** @param folder the output's local folder, or null for another endpoint ({@code shown}, masked) */
        public OutputCheck(Path folder, String shown) {
            super("courier", "output");
            this.folder = folder;
            this.shown = shown;
        }

        @Override
        public boolean isLiveness() {
            return false;
        }

        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            if (folder == null) {
                builder.detail("endpoint", shown).up();
            } else if (Files.isDirectory(folder) && Files.isWritable(folder)) {
                builder.detail("path", folder.toString()).up();
            } else {
                builder.message("the output (courier.output-uri) " + folder + (Files.exists(folder) && !Files.isDirectory(folder)
                        ? " is not a folder" : " is missing or not writable") + ": deliveries wait until it is").down();
            }
        }
    }
}

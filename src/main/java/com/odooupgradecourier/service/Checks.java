package com.odooupgradecourier.service;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.Map;
import javax.sql.DataSource;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/** Readiness beyond Camel's own: the store answers, and the folders the service needs (drop, output, cluster lock) can be used. */
public final class Checks {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger("courier");

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
     * A folder the service needs (readable and writable): ready while it is, with why not when it is not; said once at
     * WARN when it goes away (a lost mount), when a warning is given.
     */
    private abstract static class FolderCheck extends AbstractHealthCheck {
        protected final Path folder;
        private final String warning;
        private volatile boolean wasUp = true;

        FolderCheck(String id, Path folder, String warning) {
            super("courier", id);
            this.folder = folder;
            this.warning = warning;
        }

        @Override
        public boolean isLiveness() {
            return false;
        }

        /** Why the folder cannot be used, or null when it can. */
        abstract String unusable(Path folder);

        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            String why = folder == null ? null : unusable(folder);
            if (why == null) {
                builder.detail("path", String.valueOf(folder)).up();
            } else {
                builder.message(why).down();
                if (wasUp && warning != null) {
                    LOG.warn(warning, folder);
                }
            }
            wasUp = why == null;
        }

        static boolean usable(Path folder) {
            return Files.isDirectory(folder) && Files.isReadable(folder) && Files.isWritable(folder);
        }
    }

    /** The cluster's lock folder: no node can lead without it. */
    public static final class LockFolderCheck extends FolderCheck {
        public LockFolderCheck(Path lockDir) {
            super("cluster-lock-folder", lockDir, "The cluster's lock folder {} cannot be used (a lost mount?): no node can lead until it is back");
        }

        @Override
        String unusable(Path lockDir) {
            return usable(lockDir) ? null : "the cluster's lock folder (courier.cluster.lock-dir) " + lockDir + " cannot be used: no node "
                    + "can lead, no dump moves";
        }
    }

    /** The drop folder. */
    public static final class DropFolderCheck extends FolderCheck {
        public DropFolderCheck(Path drop) {
            super("drop-folder", drop, null);
        }

        @Override
        String unusable(Path drop) {
            return usable(drop) ? null : "the drop folder (courier.drop-dir) is missing or not readable and writable";
        }
    }

    /**
     * The output: a local folder ({@code file:}) must be a folder the service can write to, or deliveries wait; any other
     * endpoint is reached only when a delivery is made (its state is that delivery's).
     */
    public static final class OutputCheck extends FolderCheck {
        private final String shown;

        /** @param folder the output's local folder, or null for another endpoint ({@code shown}, masked) */
        public OutputCheck(Path folder, String shown) {
            super("output", folder, null);
            this.shown = shown;
        }

        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            if (folder == null) {
                builder.detail("endpoint", shown).up();
                return;
            }
            super.doCall(builder, options);
        }

        @Override
        String unusable(Path folder) {
            return Files.isDirectory(folder) && Files.isWritable(folder) ? null : "the output (courier.output-uri) " + folder
                    + (Files.exists(folder) && !Files.isDirectory(folder) ? " is not a folder" : " is missing or not writable")
                    + ": deliveries wait until it is";
        }
    }
}

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

        public StoreCheck(DataSource store) {
            super("courier", "store");
            this.store = store;
            setEnabled(true);
        }

        @Override
        public boolean isLiveness() {
            return false;
        }

        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            try (Connection c = store.getConnection()) {
                if (c.isValid(5)) {
                    builder.up();
                } else {
                    builder.message("the store does not answer").down();
                }
            } catch (Exception e) {
                builder.message("the store is not available: " + e.getMessage()).error(e).down();
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
                builder.message("the drop folder " + drop + " is missing or not readable and writable").down();
            }
        }
    }
}

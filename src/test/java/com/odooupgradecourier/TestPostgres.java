package com.odooupgradecourier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;

/**
 * The real PostgreSQL server the store's tests run against: {@code COURIER_TEST_POSTGRES_URL} (with
 * {@code _USER} and {@code _PASSWORD}), which .ci/run sets after installing and starting the server.
 * In CI a missing server fails the tests; elsewhere they are skipped.
 */
public final class TestPostgres {
    private TestPostgres() {
    }

    public static String url() {
        String url = System.getenv("COURIER_TEST_POSTGRES_URL");
        if ("true".equals(System.getenv("CI"))) {
            assertThat(url).as("COURIER_TEST_POSTGRES_URL must be set in CI (.ci/run starts PostgreSQL)").isNotBlank();
        }
        assumeTrue(url != null && !url.isBlank(), "COURIER_TEST_POSTGRES_URL not set: PostgreSQL tests skipped");
        return url;
    }

    public static String user() {
        return System.getenv().getOrDefault("COURIER_TEST_POSTGRES_USER", "courier");
    }

    public static String password() {
        return System.getenv().getOrDefault("COURIER_TEST_POSTGRES_PASSWORD", "courier");
    }

    /** An empty database: the service's tables dropped. */
    public static String freshUrl() throws Exception {
        String url = url();
        try (Connection c = DriverManager.getConnection(url, user(), password()); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS dumps, dump_events, upload_pieces, schema_version, camel_messageprocessed, nodes");
        }
        return url;
    }
}

package com.odooupgradecourier.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.odooupgradecourier.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import com.odooupgradecourier.TestStore;

/** The store on both databases it supports: SQLite (embedded default) and a real PostgreSQL server. */
class StoreTest {
    @TempDir
    Path tmp;

    private DataSource open(String kind) throws Exception {
        return kind.equals("sqlite") ? Store.open("", "", "", tmp)
                : Store.open(TestPostgres.freshUrl(), TestPostgres.user(), TestPostgres.password(), tmp);
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgresql"})
    void theSchemaIsCreatedOnceAndMigrationsAreNotRepeated(String kind) throws Exception {
        DataSource ds = open(kind);
        Store.migrate(ds);
        Store.migrate(ds);
        TestStore db = new TestStore(ds);
        assertThat(db.queryForObject("select count(*) from schema_version", Integer.class)).isEqualTo(Store.VERSION);
        assertThat(db.queryForObject("select max(version) from schema_version", Integer.class)).isEqualTo(Store.VERSION);
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgresql"})
    void instancesStartingAtTheSameMomentMigrateTheSchemaOnce(String kind) throws Exception {
        String url = kind.equals("sqlite") ? "" : TestPostgres.freshUrl();
        int instances = 4;
        java.util.concurrent.CyclicBarrier together = new java.util.concurrent.CyclicBarrier(instances);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(instances);
        try {
            java.util.List<java.util.concurrent.Future<DataSource>> opened = new java.util.ArrayList<>();
            for (int i = 0; i < instances; i++) {
                opened.add(pool.submit(() -> {
                    together.await();
                    return Store.open(url, TestPostgres.user(), TestPostgres.password(), tmp);
                }));
            }
            DataSource ds = null;
            for (java.util.concurrent.Future<DataSource> f : opened) {
                ds = f.get(60, java.util.concurrent.TimeUnit.SECONDS);
            }
            TestStore db = new TestStore(ds);
            assertThat(db.queryForObject("select count(*) from schema_version", Integer.class)).isEqualTo(Store.VERSION);
        } finally {
            pool.shutdownNow();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgresql"})
    void aRecordKeepsItsRequestAndStep(String kind) throws Exception {
        TestStore db = new TestStore(open(kind));
        db.update("insert into dumps (id, file_name, path, step) values (?, ?, ?, 'received')", "d1", "acme é.sql", "/x/acme é.sql");
        db.update("update dumps set request_id = ?, request_key = ?, step = 'created', request_created_millis = ? where id = ?",
                10534L, "Aw7pItGVKFuZ_FOR3U8VFQ==", 1_700_000_000_000L, "d1");
        var row = db.queryForMap("select * from dumps where id = 'd1'");
        assertThat(row.get("file_name")).isEqualTo("acme é.sql");
        assertThat(((Number) row.get("request_id")).longValue()).isEqualTo(10534L);
        assertThat(row.get("request_key")).isEqualTo("Aw7pItGVKFuZ_FOR3U8VFQ==");
        assertThat(row.get("step")).isEqualTo("created");
        assertThat(row.get("created_at")).isNotNull();
        assertThat(((Number) row.get("attempts")).intValue()).isZero();
        assertThat(db.queryForObject("select request_created_millis + 1000 * 1000 from dumps", Long.class))
                .isEqualTo(1_700_001_000_000L);
    }

    @Test
    void theSqliteFileIsReadableByTheOwnerOnly() throws Exception {
        Store.open("", "", "", tmp);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp.resolve("courier.db")))).isEqualTo("rw-------");
    }

    @Test
    void anUnknownStoreUrlOrAnUnreachableServerIsAClearError() {
        assertThatThrownBy(() -> Store.open("jdbc:mysql://x/y", "", "", tmp)).hasMessageContaining("courier.store.url");
        assertThatThrownBy(() -> Store.open("jdbc:postgresql://127.0.0.1:1/none", "u", "p", tmp))
                .isInstanceOf(SQLException.class);
    }

    @Test
    void postgresConnectionsWork() throws Exception {
        try (Connection c = open("postgresql").getConnection()) {
            assertThat(c.getMetaData().getDatabaseProductName()).isEqualTo("PostgreSQL");
        }
    }
}

package com.odooupgradecourier.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable record of every dump and its platform request: SQLite in the data folder by default,
 * PostgreSQL when {@code courier.store.url} says so. The schema is created and migrated at start.
 * Every connection goes through {@link GuardedStore}: a store out of reach is a fault that passes, said once.
 */
public final class Store {
    private static final Logger LOG = LoggerFactory.getLogger(Store.class);

    /** Each entry is one schema version; never edit one that has shipped, append a new one. */
    private static final List<String> MIGRATIONS = List.of(
            """
            CREATE TABLE dumps (
              id               VARCHAR(64) PRIMARY KEY,
              file_name        TEXT NOT NULL,
              platform_name    TEXT,
              path             TEXT NOT NULL,
              size             BIGINT,
              sha256           VARCHAR(64),
              format           VARCHAR(32),
              contract         TEXT,
              target           VARCHAR(32),
              aim              VARCHAR(16),
              request_id       BIGINT,
              request_key      TEXT,
              step             VARCHAR(16) NOT NULL,
              state            VARCHAR(32),
              customer_message TEXT,
              attempts         INTEGER NOT NULL DEFAULT 0,
              last_error       TEXT,
              delivered_to     TEXT,
              request_created_millis BIGINT,
              elapsed          VARCHAR(32),
              estimated_time   VARCHAR(32),
              status_url       TEXT,
              created_at       TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
              updated_at       TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
            )""",
            "CREATE INDEX dumps_step ON dumps (step)",
            "CREATE INDEX dumps_sha256 ON dumps (sha256)",
            // 4: the store drives the work (Dumps): what is due, who holds it, times as 64-bit milliseconds
            "ALTER TABLE dumps ADD COLUMN received_millis BIGINT",
            "ALTER TABLE dumps ADD COLUMN next_attempt_at BIGINT",
            "ALTER TABLE dumps ADD COLUMN lease_owner VARCHAR(200)",
            "ALTER TABLE dumps ADD COLUMN lease_until BIGINT",
            "ALTER TABLE dumps ADD COLUMN email TEXT",
            "ALTER TABLE dumps ADD COLUMN timezone TEXT",
            "ALTER TABLE dumps ADD COLUMN download_url TEXT",
            "ALTER TABLE dumps ADD COLUMN notes_url TEXT",
            "ALTER TABLE dumps ADD COLUMN failed_step VARCHAR(16)",
            "UPDATE dumps SET received_millis = COALESCE(request_created_millis, 0), next_attempt_at = 0 "
                    + "WHERE step NOT IN ('delivered', 'failed')",
            // rows of the first version that finished on the platform: their download URLs come from a fresh status
            "UPDATE dumps SET step = 'processing' WHERE step IN ('done', 'downloading')",
            // the first version could let a second copy of a dump in flight: the later ones are bounced
            "UPDATE dumps SET step = 'failed', last_error = 'the same dump was already in flight (found when the store was upgraded)' "
                    + "WHERE step NOT IN ('delivered', 'failed') AND sha256 IS NOT NULL AND EXISTS (SELECT 1 FROM dumps d2 "
                    + "WHERE d2.sha256 = dumps.sha256 AND d2.step NOT IN ('delivered', 'failed') AND (d2.created_at < dumps.created_at "
                    + "OR (d2.created_at = dumps.created_at AND d2.id < dumps.id)))",
            // one unfinished dump per sha256: a second copy is refused by the table itself
            "CREATE UNIQUE INDEX dumps_one_in_flight ON dumps (sha256) WHERE step NOT IN ('delivered', 'failed')",
            "CREATE INDEX dumps_due ON dumps (next_attempt_at)",
            "CREATE TABLE dump_events (dump_id VARCHAR(64) NOT NULL, at_millis BIGINT NOT NULL, transition VARCHAR(32) NOT NULL, "
                    + "from_step VARCHAR(16), to_step VARCHAR(16) NOT NULL, node VARCHAR(200), detail TEXT)",
            "CREATE INDEX dump_events_dump ON dump_events (dump_id)",
            "DROP TABLE IF EXISTS camel_messageprocessed",
            // 5: what a person can do about a failed dump, shown beside it
            "ALTER TABLE dumps ADD COLUMN what_to_do TEXT",
            // 6: the name an archive is (being) delivered under, chosen once: no two dumps ever share one
            "ALTER TABLE dumps ADD COLUMN delivery_name TEXT",
            "CREATE UNIQUE INDEX dumps_delivery_name ON dumps (delivery_name)",
            // 7: the restore into PostgreSQL after delivery: a dump's own choice, and the database it was restored to
            "ALTER TABLE dumps ADD COLUMN restore VARCHAR(8)",
            "ALTER TABLE dumps ADD COLUMN restore_name VARCHAR(64)",
            "ALTER TABLE dumps ADD COLUMN restored_to VARCHAR(64)",
            // a dump being restored (or whose restore failed) left the platform: the same dump may be upgraded again
            "DROP INDEX dumps_one_in_flight",
            "CREATE UNIQUE INDEX dumps_one_on_platform ON dumps (sha256) WHERE step NOT IN ('delivered', 'failed', 'restoring', "
                    + "'restore-failed')",
            // 8: the pieces of a dump the platform acknowledged, per request (an SFTP upload writes several pieces at once,
            // so the remote file's size says nothing about what it holds)
            "CREATE TABLE upload_pieces (dump_id VARCHAR(64) NOT NULL, request_id BIGINT NOT NULL, start_byte BIGINT NOT NULL, "
                    + "end_byte BIGINT NOT NULL)",
            "CREATE INDEX upload_pieces_dump ON upload_pieces (dump_id, request_id)",
            // 9: the current (JSON-RPC) protocol: the host a request was assigned to, the environment variables a dump is
            // upgraded with, and whether the platform said its result restores on the client's PostgreSQL
            "ALTER TABLE dumps ADD COLUMN host_uri TEXT",
            "ALTER TABLE dumps ADD COLUMN env_vars TEXT",
            "ALTER TABLE dumps ADD COLUMN pg_compatible VARCHAR(8)",
            // 10: one live instance per node id, held in the store with its own heartbeat (a lock folder can vanish)
            "CREATE TABLE nodes (node_id VARCHAR(200) PRIMARY KEY, instance VARCHAR(64) NOT NULL, host VARCHAR(255), pid BIGINT, "
                    + "started_millis BIGINT, heartbeat_until BIGINT NOT NULL)",
            // 11: what the dump's file was when it was hashed (device and inode, size, modification and change time): checked
            // again before its bytes go anywhere, so a file that changed after it was taken is never delivered
            "ALTER TABLE dumps ADD COLUMN file_stamp TEXT",
            // 12: the restore a partner can trust: each restore's own role (recorded before it is made, dropped after), where
            // the filestore went, attachments it misses, who neutralized a test database, the database the dump came from
            // (its filestore), and the PostgreSQL version the platform named
            "ALTER TABLE dumps ADD COLUMN restore_role VARCHAR(64)",
            "ALTER TABLE dumps ADD COLUMN filestore_path TEXT",
            "ALTER TABLE dumps ADD COLUMN missing_attachments BIGINT",
            "ALTER TABLE dumps ADD COLUMN neutralized VARCHAR(16)",
            "ALTER TABLE dumps ADD COLUMN source_database VARCHAR(64)",
            "ALTER TABLE dumps ADD COLUMN pg_version VARCHAR(16)",
            // 13: the queue takes what is due in one statement; who held a dump before (a node that stopped working on it)
            // is kept beside the new lease, for the log
            "ALTER TABLE dumps ADD COLUMN lease_taken_from VARCHAR(200)",
            // 14: the status page counts deliveries since a time, draws how long they took, and lists dumps newest first
            "CREATE INDEX dump_events_transition ON dump_events (transition, at_millis)",
            "UPDATE dumps SET received_millis = 0 WHERE received_millis IS NULL",
            "CREATE INDEX dumps_received ON dumps (received_millis, id)",
            // 15: rehearsals from live databases on a schedule, and the guard of production upgrades. A dump names
            // the source it was made from (a rehearsal's, or a dropped dump's own setting): a production upgrade is held
            // until a test of the same source was delivered. Each rehearsal is a row; one runs per source at a time, and a
            // scheduled fire is rehearsed once (the table refuses the second: a fire while one runs, another node's fire)
            "ALTER TABLE dumps ADD COLUMN source VARCHAR(64)",
            "CREATE INDEX dumps_source ON dumps (source, aim, target)",
            "CREATE TABLE rehearsals (id VARCHAR(64) PRIMARY KEY, source VARCHAR(64) NOT NULL, scheduled_millis BIGINT NOT NULL, "
                    + "started_millis BIGINT NOT NULL, node VARCHAR(200), dump_id VARCHAR(64), dumped_millis BIGINT, dump_seconds DOUBLE PRECISION, "
                    + "upload_seconds DOUBLE PRECISION, platform_seconds DOUBLE PRECISION, download_seconds DOUBLE PRECISION, "
                    + "restore_seconds DOUBLE PRECISION, total_seconds DOUBLE PRECISION, warnings INTEGER, headings TEXT, "
                    + "restored_to VARCHAR(64), outcome VARCHAR(32), detail TEXT, finished_millis BIGINT, database_dropped_millis BIGINT)",
            "CREATE UNIQUE INDEX rehearsals_one_running ON rehearsals (source) WHERE outcome IS NULL",
            "CREATE UNIQUE INDEX rehearsals_one_per_fire ON rehearsals (source, scheduled_millis)",
            "CREATE INDEX rehearsals_dump ON rehearsals (dump_id)",
            // 16: what the platform's upgrade report of every delivered dump says (its warnings and headings), for its page
            "ALTER TABLE dumps ADD COLUMN report_warnings INTEGER",
            "ALTER TABLE dumps ADD COLUMN report_headings TEXT",
            // 17: where the sha256 was read: while the dump settled in the drop folder, or before a retry brought it back
            // ('provisional': the bytes sent are checked against it), or in custody ('custody', or null for dumps before)
            "ALTER TABLE dumps ADD COLUMN sha256_from VARCHAR(16)");

    /** The schema version a store has once opened. */
    public static final int VERSION = MIGRATIONS.size();
    /** The key of the PostgreSQL advisory lock held while the schema is migrated ("courier" in ASCII). */
    private static final long MIGRATION_LOCK = 0x636f7572696572L;

    private Store() {
    }

    /**
     * Opens the store. An empty {@code url} means SQLite at {@code dataDir/courier.db}, readable by the
     * owner only.
     */
    public static DataSource open(String url, String user, String password, Path dataDir) throws IOException, SQLException {
        if (url == null || url.isBlank() || url.startsWith("jdbc:sqlite:")) {
            String jdbc = url == null || url.isBlank() ? "jdbc:sqlite:" + dataDir.resolve("courier.db") : url;
            Path file = Path.of(jdbc.substring("jdbc:sqlite:".length()));
            DataSource ds = sqlite(jdbc, file);
            // instances (or threads) opening one new SQLite file at once: the first connection switches it to WAL,
            // which the others cannot wait for (SQLITE_BUSY at once), so they open it one after the other
            synchronized (Store.class) {
                try (java.nio.channels.FileChannel lock = java.nio.channels.FileChannel.open(
                        file.resolveSibling(file.getFileName() + ".open-lock"), java.nio.file.StandardOpenOption.CREATE,
                        java.nio.file.StandardOpenOption.WRITE);
                     java.nio.channels.FileLock held = lock.lock()) {
                    migrate(ds);
                }
            }
            LOG.info("Store ready: {}", file);
            return new GuardedStore(ds, file.toString());
        }
        if (url.startsWith("jdbc:postgresql:")) {
            DataSource ds = postgres(url, user, password);
            migrate(ds);
            LOG.info("Store ready: {}", url);
            return new GuardedStore(ds, com.odooupgradecourier.support.Secrets.maskUri(url));
        }
        throw new IllegalArgumentException("courier.store.url must be empty (SQLite in the data folder), jdbc:sqlite:… "
                + "or jdbc:postgresql:…, not " + url);
    }

    /** A SQLite file, made here owner-only, opened with what the store relies on (WAL, secure delete, immediate writes). */
    private static DataSource sqlite(String jdbc, Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (java.nio.file.FileAlreadyExistsException kept) {
            // the store of an earlier run (or of an instance that started at the same moment)
        }
        SQLiteConfig config = new SQLiteConfig();
        // the file is made above, owner-only; a connection never makes one (a store deleted while the service runs is
        // not made again with the process's umask, and empty: the service says the store is gone instead)
        config.resetOpenMode(org.sqlite.SQLiteOpenMode.CREATE);
        // what a row no longer holds (a delivered request's key) is overwritten in the file, not left in a free page
        config.setPragma(SQLiteConfig.Pragma.SECURE_DELETE, "true");
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setBusyTimeout(30_000);
        config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
        // transactions take the write lock when they begin: concurrent writers wait (busy timeout)
        // instead of failing when a read turns into a write
        config.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
        SQLiteDataSource sqlite = new SQLiteDataSource(config);
        sqlite.setUrl(jdbc);
        return sqlite;
    }

    private static DataSource postgres(String url, String user, String password) {
        PGSimpleDataSource pg = new PGSimpleDataSource();
        pg.setURL(url);
        // a server that does not answer is a store that is down, not a thread that waits for ever
        pg.setConnectTimeout(10);
        pg.setLoginTimeout(10);
        pg.setSocketTimeout(60);
        if (user != null && !user.isBlank()) {
            pg.setUser(user);
        }
        if (password != null && !password.isBlank()) {
            pg.setPassword(password);
        }
        return pg;
    }

    /**
     * Removes what a row no longer holds from the file too (SQLite): the write-ahead log, which still holds the pages as
     * they were, is folded into the store and emptied. Nothing for PostgreSQL (its old row versions go with VACUUM;
     * set courier.store.secret there). Best effort: a reader at this moment leaves it for the next time.
     */
    public static void purge(Connection c) {
        try {
            if (c.getMetaData().getDatabaseProductName().toLowerCase(java.util.Locale.ROOT).contains("sqlite")) {
                try (Statement s = c.createStatement()) {
                    s.execute("PRAGMA wal_checkpoint(TRUNCATE)");
                }
            }
        } catch (SQLException e) {
            LOG.debug("The store's log could not be emptied now: {}", e.getMessage());
        }
    }

    /**
     * Creates or migrates the schema in one transaction. Instances that start at the same moment on one PostgreSQL
     * store (a cluster) take turns: the first migrates under an advisory lock, the others find it done.
     */
    static void migrate(DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            try {
                if (c.getMetaData().getDatabaseProductName().toLowerCase(java.util.Locale.ROOT).contains("postgres")) {
                    s.execute("SELECT pg_advisory_xact_lock(" + MIGRATION_LOCK + ")");
                }
                s.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
                int version = 0;
                try (ResultSet rs = s.executeQuery("SELECT MAX(version) FROM schema_version")) {
                    if (rs.next()) {
                        version = rs.getInt(1);
                    }
                }
                for (int v = version; v < MIGRATIONS.size(); v++) {
                    s.execute(MIGRATIONS.get(v));
                    s.execute("INSERT INTO schema_version (version) VALUES (" + (v + 1) + ")");
                }
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            }
        }
    }
}

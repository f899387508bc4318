package com.odooupgradecourier.failure;

import com.odooupgradecourier.dump.Custody;
import com.odooupgradecourier.store.Rows;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.support.DefaultExchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one bounce: a dump (or a file from the drop folder that was never taken) moves to {@code courier.failed-dir} under
 * a name of its own, or {@code <name>.1}, …, with {@code <name>.error.json} beside it (what failed, the platform's
 * failures verbatim, what to do; never the request key). Every route that bounces calls {@link #bounce}; a bounce a
 * crash (or a failed folder that could not be written) cut short is finished later ({@link #finish}), so every failed
 * dump ends beside its record.
 */
public class Bounces {
    private static final Logger LOG = LoggerFactory.getLogger("courier");
    private final DataSource store;
    private final Rows rows;
    private final Custody custody;
    private final ErrorRecords records;
    private final Path failedDir;
    private final Path staging;
    private final CamelContext camel;
    /** Bounces that could not be finished yet and have been said so once (then at DEBUG, until they are finished). */
    private final Set<String> said = ConcurrentHashMap.newKeySet();

    public Bounces(DataSource store, Rows rows, Custody custody, ErrorRecords records, Path failedDir, Path staging, CamelContext camel) {
        this.store = store;
        this.rows = rows;
        this.custody = custody;
        this.records = records;
        this.failedDir = failedDir.toAbsolutePath();
        this.staging = staging.toAbsolutePath();
        this.camel = camel;
    }

    /**
     * Moves the exchange's dump ({@code dumpPath}) to the failed folder and writes its record beside it; sets
     * {@code dumpPath} and {@code recordPath}. A dump the store knows ({@code dumpStep} set) has its new place recorded.
     */
    public void bounce(Exchange exchange) throws Exception {
        exchange.setProperty("failedDir", failedDir.toString());
        String fileName = exchange.getProperty("fileName", String.class);
        String path = custody.moveToFailed(exchange.getProperty("dumpPath", String.class), failedDir.toString(), fileName);
        exchange.setProperty("dumpPath", path);
        exchange.setProperty("dumpWhere", held(path) ? "at " + path : "no longer where the service kept it (" + path + ")");
        exchange.setProperty("recordPath", custody.writeRecord(records.build(exchange), path, failedDir.toString(), fileName,
                exchange.getProperty("dumpId", String.class)));
        if (exchange.getProperty("dumpStep") != null) {
            rows.update(exchange, "path");
        }
    }

    /**
     * Finishes the unfinished bounces (a few at a time): of failed dumps no worker holds. A dump the dead-letter route is
     * bouncing right now is still held by its worker (its lease is let go only after the bounce), so it is never bounced
     * twice, from two threads, into two records.
     */
    public void finish() throws Exception {
        List<Map<String, Object>> unfinished;
        try (Connection c = store.getConnection()) {
            unfinished = Rows.query(c, "select * from dumps where step = 'failed' and (path like ? or path like ?) "
                    + "and (lease_owner is null or lease_until < ?)", 500, custody.dumpsDir() + "/%", staging + "/%", System.currentTimeMillis());
        }
        // each row's file looked at once: still where its row says, or not
        Map<Boolean, List<Map<String, Object>>> byHeld = unfinished.stream()
                .collect(java.util.stream.Collectors.partitioningBy(row -> held((String) row.get("path"))));
        byHeld.get(true).stream().limit(20).forEach(this::finish);
        // a dump no longer where its row says: moved into the failed folder by a bounce a stop cut short before its record
        // (then the record is written beside it), or gone (a store older than what became of the dump: its record was
        // written when it failed, and is not written again at every look)
        byHeld.get(false).forEach(this::finishRecord);
    }

    private void finishRecord(Map<String, Object> row) {
        String fileName = (String) row.get("file_name");
        Path moved = custody.movedToFailed(fileName, failedDir, (String) row.get("file_stamp"));
        if (moved == null) {
            return;
        }
        Exchange ex = failedAs(row);
        ex.setProperty("failedDir", failedDir.toString());
        ex.setProperty("dumpPath", moved.toString());
        try {
            String record = custody.writeRecord(records.build(ex), moved.toString(), failedDir.toString(), fileName, (String) row.get("id"));
            rows.update(ex, "path");
            LOG.warn("{}: its bounce is finished now: the dump is at {}, its record {}", fileName, moved, record);
        } catch (Exception e) {
            LOG.debug("{}: its record cannot be written yet: {}", fileName, e.getMessage());
        }
    }

    private static boolean held(String path) {
        return path != null && java.nio.file.Files.exists(Path.of(path), java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }

    /** A failed dump's row as the exchange its bounce had: what failed, at which step, what to do. */
    private Exchange failedAs(Map<String, Object> row) {
        Exchange ex = new DefaultExchange(camel);
        rows.load(ex, row);
        ex.setProperty("step", row.get("failed_step"));
        ex.setProperty("failure", new Exception(String.valueOf(row.get("last_error"))));
        ex.setProperty("whatToDo", row.get("what_to_do"));
        return ex;
    }

    private void finish(Map<String, Object> row) {
        Exchange ex = failedAs(row);
        String id = (String) row.get("id");
        try {
            bounce(ex);
            said.remove(id);
            LOG.warn("{}: its bounce is finished now: the dump is {}, its record {}", row.get("file_name"), ex.getProperty("dumpWhere"),
                    ex.getProperty("recordPath"));
        } catch (Exception e) {
            if (said.add(id)) {
                LOG.warn("{}: failed, and its bounce cannot be finished yet ({}): it stays at {}; tried again every few seconds",
                        row.get("file_name"), e.getMessage(), row.get("path"));
            } else {
                LOG.debug("{}: its bounce cannot be finished yet: {}", row.get("file_name"), e.getMessage());
            }
        }
    }
}

package com.odooupgradecourier.service;

import com.odooupgradecourier.store.Dumps;
import com.odooupgradecourier.support.Custody;
import com.odooupgradecourier.failure.ErrorRecords;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.support.DefaultExchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bounce the dead-letter route could not finish (the row is failed, but a crash or a failed folder that could
 * not be written kept the dump in custody and its record unwritten): finished later, at start and while running,
 * so every failed dump ends beside its error record in the failed folder.
 */
public class Bounces {
    private static final Logger LOG = LoggerFactory.getLogger("courier");
    private final DataSource store;
    private final Dumps dumps;
    private final Custody custody;
    private final ErrorRecords records;
    private final Path failedDir;
    private final Path staging;
    private final CamelContext camel;

    public Bounces(DataSource store, Dumps dumps, Custody custody, ErrorRecords records, Path failedDir, Path staging,
                   CamelContext camel) {
        this.store = store;
        this.dumps = dumps;
        this.custody = custody;
        this.records = records;
        this.failedDir = failedDir.toAbsolutePath();
        this.staging = staging.toAbsolutePath();
        this.camel = camel;
    }

    /** Finishes the unfinished bounces (a few at a time). */
    public void finish() throws Exception {
        List<Map<String, Object>> unfinished;
        try (Connection c = store.getConnection()) {
            unfinished = Dumps.query(c, "select * from dumps where step = 'failed' and (path like ? or path like ?)", 20,
                    custody.dumpsDir() + "/%", staging + "/%");
        }
        unfinished.forEach(this::finish);
    }

    private void finish(Map<String, Object> row) {
        Exchange ex = new DefaultExchange(camel);
        dumps.load(ex, row);
        ex.setProperty("failedDir", failedDir.toString());
        ex.setProperty("step", row.get("failed_step"));
        ex.setProperty("failure", new Exception(String.valueOf(row.get("last_error"))));
        ex.setProperty("whatToDo", row.get("what_to_do"));
        try {
            String path = custody.moveToFailed(ex.getProperty("dumpPath", String.class), failedDir.toString(),
                    ex.getProperty("fileName", String.class));
            ex.setProperty("dumpPath", path);
            String record = custody.writeRecord(records.build(ex), path, failedDir.toString(), ex.getProperty("fileName", String.class),
                    ex.getProperty("dumpId", String.class));
            dumps.update(ex, "path");
            LOG.warn("{}: its bounce is finished now: the dump is at {}, its record {}", row.get("file_name"), path, record);
        } catch (Exception e) {
            LOG.debug("{}: its bounce cannot be finished yet: {}", row.get("file_name"), e.getMessage());
        }
    }
}

package com.odooupgradecourier.store;

import com.odooupgradecourier.dump.Orphans;
import com.odooupgradecourier.support.KeyCipher;
import com.odooupgradecourier.support.RetryPolicy;
import com.odooupgradecourier.transfer.Ranges;
import com.odooupgradecourier.transfer.UploadPieces;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import javax.sql.DataSource;
import org.apache.camel.Exchange;

/** One node's parts of the store as the service wires them (rows, queue, transitions, orphans, upload pieces), for the tests. */
final class StoreNode {
    final Rows rows;
    final Queue queue;
    final Dumps dumps;
    final RetryPolicy retries;
    private final DataSource ds;
    private final UploadPieces pieces;

    StoreNode(DataSource ds, String name, long leaseMillis, long pollMillis, RetryPolicy retries, long lifetimeMillis, LongSupplier clock) {
        this.ds = ds;
        this.retries = retries;
        rows = new Rows(ds, KeyCipher.NONE);
        queue = new Queue(ds, name, leaseMillis, clock);
        dumps = new Dumps(rows, queue, pollMillis, retries, lifetimeMillis, clock);
        pieces = new UploadPieces(ds, queue);
    }

    void receive(String id, String fileName, String path) throws SQLException {
        queue.receive(id, fileName, path);
    }

    List<Map<String, Object>> claimDue() throws SQLException {
        return queue.claimDue();
    }

    void load(Exchange ex, Map<String, Object> row) {
        rows.load(ex, row);
    }

    void release(String id) throws SQLException {
        queue.release(id);
    }

    int renewLeases() throws SQLException {
        return queue.renewLeases();
    }

    void fence(String id, String fileName) throws SQLException {
        queue.fence(id, fileName);
    }

    void go(Exchange ex, String transition) throws Exception {
        dumps.go(ex, transition);
    }

    Step retry(String id, String fileName, String failedStep, String path) throws SQLException {
        return dumps.retry(id, fileName, failedStep, path);
    }

    boolean lifetimeOver(Long receivedMillis) {
        return dumps.lifetimeOver(receivedMillis);
    }

    boolean claimName(Exchange ex, String name) throws SQLException {
        return rows.claimName(ex, name);
    }

    void update(Exchange ex, String column) throws SQLException {
        rows.update(ex, column);
    }

    Ranges uploaded(String id, long requestId) throws SQLException {
        return pieces.acknowledged(id, requestId);
    }

    void uploaded(String id, long requestId, long start, long end) throws SQLException {
        pieces.acknowledged(id, requestId, start, end);
    }

    /** At start: this node's earlier leases given up, and every orphan recorded. */
    void recover(Path staging, Path custody, boolean alone) throws Exception {
        queue.recover();
        new Orphans(rows, queue, dumps, staging, custody).recover(alone);
    }

    /** While running: orphans in the staging folder recorded. */
    void adoptOrphans(Path staging, Path custody) throws Exception {
        new Orphans(rows, queue, dumps, staging, custody).adoptOrphans();
    }
}

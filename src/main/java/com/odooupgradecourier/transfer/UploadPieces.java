package com.odooupgradecourier.transfer;

import com.odooupgradecourier.store.Queue;
import com.odooupgradecourier.store.Rows;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import javax.sql.DataSource;
import org.apache.camel.ExchangeProperty;

/**
 * The pieces of a dump the platform acknowledged, per request, kept in the store: an SFTP upload writes several pieces
 * at once, so the remote file's size says nothing about what it holds; a broken upload (or one taken over by another
 * node) sends only the pieces not recorded.
 */
public class UploadPieces {
    private final DataSource store;
    private final Queue queue;

    public UploadPieces(DataSource store, Queue queue) {
        this.store = store;
        this.queue = queue;
    }

    /** The pieces of the dump the platform acknowledged for this request (an SFTP upload resumes with the others). */
    public Ranges acknowledged(String id, long requestId) throws SQLException {
        Ranges done = new Ranges();
        try (Connection c = store.getConnection()) {
            for (Map<String, Object> r : Rows.query(c, "select start_byte, end_byte from upload_pieces where dump_id = ? and request_id = ?",
                    Integer.MAX_VALUE, id, requestId)) {
                done.add(((Number) r.get("start_byte")).longValue(), ((Number) r.get("end_byte")).longValue());
            }
        }
        return done;
    }

    /**
     * Records a piece of the dump the platform acknowledged, as soon as it did, fenced like a platform call: a node that
     * no longer holds the dump (another took it over and may have emptied the remote file) records nothing.
     */
    public void acknowledged(String id, long requestId, long start, long end) throws SQLException {
        try (Connection c = store.getConnection()) {
            queue.fence(c, id, "dump " + id + "'s upload");
            Rows.update(c, "insert into upload_pieces (dump_id, request_id, start_byte, end_byte) values (?, ?, ?, ?)", id, requestId, start,
                    end);
        }
    }

    /** Once the platform holds the whole dump (its size checked), the record of its pieces is not needed any more. */
    public void forget(@ExchangeProperty("dumpId") String id) throws SQLException {
        try (Connection c = store.getConnection()) {
            Rows.update(c, "delete from upload_pieces where dump_id = ?", id);
        }
    }
}

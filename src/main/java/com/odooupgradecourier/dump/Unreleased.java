package com.odooupgradecourier.dump;

import com.odooupgradecourier.store.Rows;
import java.sql.Connection;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * Deliveries a stop cut short before their release: delivered, but the dump is still in custody ({@code data/dumps/<id>/},
 * with its journal, which holds the request's key) and the request's SSH keys may still be on disk. No worker holds them
 * (the one that delivered lets go only after the release), so the queue releases them again.
 */
public class Unreleased {
    private final DataSource store;
    private final Custody custody;

    public Unreleased(DataSource store, Custody custody) {
        this.store = store;
        this.custody = custody;
    }

    /** A few such dumps' rows. */
    public List<Map<String, Object>> rows() throws Exception {
        try (Connection c = store.getConnection()) {
            return Rows.query(c, "select * from dumps where step = 'delivered' and path like ? and (lease_owner is null or lease_until < ?)",
                    20, custody.dumpsDir().toAbsolutePath() + "/%", System.currentTimeMillis());
        }
    }
}

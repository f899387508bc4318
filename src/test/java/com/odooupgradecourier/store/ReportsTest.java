package com.odooupgradecourier.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the page, the metrics and the alerts read of the store. */
class ReportsTest {
    @TempDir
    Path tmp;

    /**
     * A dump that had a fault since its last step forward waits, whether it is parked for its next attempt or being tried
     * again in its step right now (its next attempt is past): the count and how long it waited do not drop to 0 with every
     * attempt, so an alert on them can fire. A held dump is not waiting after a fault.
     */
    @Test
    void aDumpWaitsAfterAFaultUntilItMovesOnWhetherParkedOrBeingTriedAgain() throws Exception {
        DataSource store = Store.open("", "", "", tmp);
        long now = 10_000_000_000L;
        try (Connection c = store.getConnection()) {
            Rows.update(c, "insert into dumps (id, file_name, path, step, received_millis, next_attempt_at, last_error) values "
                    + "('parked', 'a.sql', '/x', 'uploading', ?, ?, 'SFTP down'), ('retrying', 'b.sql', '/x', 'created', ?, ?, 'HTTP 503'), "
                    + "('fine', 'c.sql', '/x', 'processing', ?, ?, null), ('held', 'd.sql', '/x', 'held', ?, null, 'no test of acme')",
                    now - 7_200_000, now + 60_000, now - 3_600_000, now - 1_000, now - 60_000, now + 1_000, now - 100);
            Rows.update(c, "insert into dump_events (dump_id, at_millis, transition, to_step) values ('parked', ?, 'upload-started', "
                    + "'uploading'), ('parked', ?, 'parked', 'uploading'), ('retrying', ?, 'created', 'created')", now - 5_400_000,
                    now - 60_000, now - 3_000_000);
        }
        Reports.Counts counts = new Reports(store).counts(now);
        assertThat(counts.waiting()).isEqualTo(2);
        assertThat(counts.oldestWaitingMillis()).as("since its last step forward, not its last attempt").isEqualTo(5_400_000);
        assertThat(counts.in(Step.HELD)).isOne();
        assertThat(new Reports(store).needingAPerson(now, 3_600_000, 10)).extracting(r -> r.get("id"))
                .containsExactlyInAnyOrder("parked", "held");
    }
}

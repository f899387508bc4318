package com.odooupgradecourier.failure;

import static org.assertj.core.api.Assertions.assertThat;

import com.odooupgradecourier.dump.Custody;
import com.odooupgradecourier.store.Queue;
import com.odooupgradecourier.store.Rows;
import com.odooupgradecourier.store.Store;
import com.odooupgradecourier.support.KeyCipher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bounce cut short (a crash between the dump's step failed and its move to the failed folder) is finished later; one
 * the dead-letter route is making right now (its worker still holds the dump) is not: never two records for one dump.
 */
class BouncesTest {
    @TempDir
    Path tmp;

    @Test
    void aBounceInProgressIsLeftToItsWorkerAndOneCutShortIsFinished() throws Exception {
        DataSource store = Store.open("", "", "", tmp.resolve("data"));
        Custody custody = new Custody(tmp.resolve("data"));
        Rows rows = new Rows(store, KeyCipher.NONE);
        Path failed = tmp.resolve("failed");
        Bounces bounces = new Bounces(store, rows, custody, new ErrorRecords(), failed, tmp.resolve("drop/.courier"),
                new DefaultCamelContext());
        Path dump = Files.createDirectories(custody.dumpsDir().resolve("D1")).resolve("rest.sql");
        Files.writeString(dump, "the rest of a copy\n");
        Queue queue = new Queue(store, "node-a", 60_000, System::currentTimeMillis);
        queue.receive("D1", "rest.sql", dump.toString());
        assertThat(queue.claimDue()).hasSize(1);
        try (Connection c = store.getConnection()) {
            Rows.update(c, "update dumps set step = 'failed', failed_step = 'intake', last_error = 'not whole' where id = 'D1'");
        }

        bounces.finish();
        assertThat(dump).as("held by its worker, which is bouncing it").exists();
        assertThat(records(failed)).isZero();

        queue.release("D1");
        bounces.finish();
        assertThat(dump).doesNotExist();
        assertThat(failed.resolve("rest.sql")).exists();
        assertThat(records(failed)).isOne();
        bounces.finish();
        assertThat(records(failed)).as("finished once").isOne();
    }

    private static long records(Path failed) throws Exception {
        if (!Files.isDirectory(failed)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(failed)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".error.json")).count();
        }
    }
}

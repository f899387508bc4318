package com.odooupgradecourier.dump;

import com.odooupgradecourier.store.Dumps;
import com.odooupgradecourier.store.Journal;
import com.odooupgradecourier.store.Queue;
import com.odooupgradecourier.store.Rows;
import com.odooupgradecourier.store.Step;
import com.odooupgradecourier.support.Moves;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dumps the service holds that the store does not know: taken from the drop folder (into its staging folder) but not
 * recorded, because the service stopped or the store did not answer in between; or in custody after the store was lost.
 * Each is recorded now, never lost: a dump whose journal names its platform request goes on with that request; any other
 * starts from the beginning. A folder left without its dump (a move a crash cut short) goes, with the journal in it.
 */
public class Orphans {
    private static final Logger LOG = LoggerFactory.getLogger("courier");
    /** How long a dump waits unrecorded in the staging folder before it is taken for an orphan, while the service runs. */
    private static final long MIN_AGE_MILLIS = 60_000;

    private final Rows rows;
    private final Queue queue;
    private final Dumps dumps;
    private final Path staging;
    private final Path custody;

    /**
     * @param staging the drop folder's staging folder ({@code drop/.courier})
     * @param custody the dumps in custody ({@code data/dumps})
     */
    public Orphans(Rows rows, Queue queue, Dumps dumps, Path staging, Path custody) {
        this.rows = rows;
        this.queue = queue;
        this.dumps = dumps;
        this.staging = staging;
        this.custody = custody;
    }

    /**
     * At start: every orphan is recorded. In a cluster ({@code alone} false) the node that leads may be taking a dump from
     * the drop folder at this very moment: only what has waited a minute unrecorded there is taken up, as while running.
     */
    public void recover(boolean alone) throws SQLException, IOException {
        adopt(staging, alone ? 0 : MIN_AGE_MILLIS);
        adopt(custody, 0);
    }

    /** While running: a dump taken from the drop folder a minute ago or more but not recorded is recorded now. */
    public void adoptOrphans() throws SQLException, IOException {
        adopt(staging, MIN_AGE_MILLIS);
    }

    private void adopt(Path parent, long minAgeMillis) throws SQLException, IOException {
        if (!Files.isDirectory(parent)) {
            return;
        }
        // a file's age is told by the file system's clock
        long now = System.currentTimeMillis();
        try (Stream<Path> dirs = Files.list(parent)) {
            for (Path d : dirs.filter(Files::isDirectory).toList()) {
                if (now - Files.getLastModifiedTime(d).toMillis() >= minAgeMillis) {
                    adoptOne(d);
                }
            }
        }
    }

    private void adoptOne(Path dir) throws SQLException, IOException {
        String id = dir.getFileName().toString();
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            // the dump itself: not its settings, not its journal, not a folder (a name Camel could not move left one)
            files = list.filter(f -> !f.getFileName().toString().endsWith(".properties") && !f.getFileName().toString().startsWith(".")
                    && !Files.isDirectory(f, LinkOption.NOFOLLOW_LINKS)).toList();
        }
        if (files.isEmpty()) {
            // the dump left (a crash cut its move short): a journal left behind holds its key, and goes
            Files.deleteIfExists(dir.resolve(Journal.NAME));
            Files.deleteIfExists(dir.resolve(Journal.NAME + ".tmp"));
            deleteEmpty(dir);
            return;
        }
        if (files.size() != 1 || rows.exists(id)) {
            return;
        }
        Path dump = files.get(0);
        Map<String, Object> journal = Journal.read(dir);
        if (journal == null && Files.exists(dir.resolve(Journal.NAME), LinkOption.NOFOLLOW_LINKS)
                || journal != null && !id.equals(journal.get("id"))) {
            // recorded, and refused at admission: never a second request behind the user's back
            queue.receive(id, dump.getFileName().toString(), dump.toString());
            LOG.warn("{}: the store had no record of it and its journal cannot be read: it may have a request on the platform "
                    + "already, so it is not sent again by itself", dump.getFileName());
            return;
        }
        if (journal != null && journal.get("request_id") != null) {
            Step step = dumps.resume(journal, dump);
            LOG.warn("{}: the store had no record of it: taken up again from its journal at step {}, with request {} (not created "
                    + "again)", dump.getFileName(), step, journal.get("request_id"));
            return;
        }
        // a crash between taking the dump and its settings file left the settings in the drop folder: they go with it
        Path settings = dir.getParent().getParent().resolve(dump.getFileName() + ".properties");
        Path beside = dir.resolve(dump.getFileName() + ".properties");
        if (Files.isRegularFile(settings, LinkOption.NOFOLLOW_LINKS) && !Files.exists(beside)) {
            try {
                Moves.moveNew(settings, beside);
            } catch (IOException e) {
                LOG.warn("{}: its settings file could not be taken with it: {}", dump.getFileName(), e.getMessage());
            }
        }
        queue.receive(id, dump.getFileName().toString(), dump.toString());
        LOG.info("{}: taken from the drop folder before the last stop, recorded now", dump.getFileName());
    }

    /**
     * At admission: a dump in custody with a journal that cannot be read (adopted after the store was lost) may have a
     * platform request already. It is refused with a record that says so, instead of a second request made by itself.
     */
    public void refuseUnreadableJournal(@org.apache.camel.ExchangeProperty("dumpPath") String dumpPath) throws BadDumpException {
        Path dir = Path.of(dumpPath).getParent();
        if (Files.exists(dir.resolve(Journal.NAME), LinkOption.NOFOLLOW_LINKS)) {
            throw new BadDumpException("the store had lost this dump and its journal (" + Journal.NAME + " beside it in custody) "
                    + "cannot be read: it may have an upgrade request on the platform already, so it is not sent again by itself. "
                    + "Look for it on the platform; to upgrade it anew, drop it again.");
        }
    }

    /** An empty folder goes (with the empty folders in it that a move cut short left); anything else stays. */
    private static void deleteEmpty(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            if (all.allMatch(Files::isDirectory)) {
                Moves.deleteTree(dir);
            }
        }
    }
}

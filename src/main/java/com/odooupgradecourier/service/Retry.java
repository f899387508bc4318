package com.odooupgradecourier.service;

import com.odooupgradecourier.dump.DumpInspector;
import com.odooupgradecourier.store.Dumps;
import com.odooupgradecourier.store.Queue;
import com.odooupgradecourier.store.Rows;
import com.odooupgradecourier.support.FileStamp;
import com.odooupgradecourier.store.Step;
import com.odooupgradecourier.store.Store;
import com.odooupgradecourier.dump.Custody;
import com.odooupgradecourier.support.KeyCipher;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import javax.sql.DataSource;
import org.apache.camel.Header;

/**
 * A failed dump taken up again ({@code POST /requests/{id}/retry}, {@code --retry DUMP}): its file comes back
 * from the failed folder into custody, its error record goes, and it returns to the step it failed at, with its
 * platform request when it has one (a download that failed after {@code done} is downloaded, not created again).
 */
public class Retry {
    private final Rows rows;
    private final Dumps dumps;
    private final Custody custody;

    private final Path dataDir;

    public Retry(Rows rows, Dumps dumps, Custody custody, Path dataDir) {
        this.rows = rows;
        this.dumps = dumps;
        this.custody = custody;
        this.dataDir = dataDir;
    }

    /** Retries the dump with this id (or the newest failed one with this file name). */
    public Map<String, Object> retry(@Header("id") String idOrName) throws Exception {
        Map<String, Object> row = idOrName == null ? null : rows.find(idOrName.trim());
        if (row == null) {
            throw new HttpAccess.Refused(404, "no dump with the id or name " + idOrName);
        }
        String id = (String) row.get("id");
        String name = (String) row.get("file_name");
        if ("restore-failed".equals(row.get("step"))) {
            return retryRestore(row);
        }
        if ("held".equals(row.get("step"))) {
            // a person sends a held production upgrade without a recent test: said in its event
            dumps.release(id, name, "released by hand (retry): the production upgrade is sent without a recent test of its source");
            return takenUp(row, Step.ADMITTED);
        }
        if (!"failed".equals(row.get("step"))) {
            throw new HttpAccess.Refused(409, name + " is not failed nor held (it is at step " + row.get("step") + "): nothing to retry");
        }
        String path = (String) row.get("path");
        if (path == null || !java.nio.file.Files.exists(java.nio.file.Path.of(path), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new HttpAccess.Refused(410, name + " is no longer at " + path + ": it cannot be retried; drop the dump again");
        }
        String twin = rows.twinInFlight((String) row.get("sha256"), id);
        if (twin != null) {
            throw new HttpAccess.Refused(409, "the same dump is in flight as " + twin + ": this copy is not sent a second time");
        }
        if (KeyCipher.isSealed((String) row.get("request_key")) && !rows.opensKeys()) {
            throw new HttpAccess.Refused(409, name + "'s request key is encrypted: set courier.store.secret to retry it");
        }
        String stamp = (String) row.get("file_stamp");
        if (stamp != null && FileStamp.of(Path.of(path)).contentMayDiffer(stamp) && row.get("sha256") != null
                && !row.get("sha256").equals(DumpInspector.sha256(Path.of(path)))) {
            throw new HttpAccess.Refused(409, name + " is not the file it was when it failed (" + FileStamp.describe(stamp)
                    + " then): drop it again instead, as a new dump");
        }
        // first the guarded transition (nothing moves when it is refused), then the file back into custody
        Step step = dumps.retry(id, name, (String) row.get("failed_step"), custody.custodyPath(id, name));
        try {
            String back = custody.takeBack(id, name, path);
            // the same content, moved: later checks compare with the file as it is in custody now
            if (stamp != null) {
                rows.restamp(id, FileStamp.of(Path.of(back)).text());
            }
            // back in custody with its request: its journal again, for a store that would be lost
            dumps.journal(id);
        } catch (java.io.IOException e) {
            // it is taken up where it is
            rows.movedTo(id, path);
        }
        return takenUp(row, step);
    }

    /** A delivered dump whose restore failed: restored again from the archive the courier kept for it. */
    private Map<String, Object> retryRestore(Map<String, Object> row) throws Exception {
        String id = (String) row.get("id");
        String name = (String) row.get("file_name");
        Path archive = com.odooupgradecourier.transfer.Downloads.archiveIn(dataDir, id);
        if (!java.nio.file.Files.isRegularFile(archive, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new HttpAccess.Refused(410, name + "'s archive is no longer kept for a restore: restore the delivered archive "
                    + row.get("delivered_to") + " by hand, or drop the dump again");
        }
        return takenUp(row, dumps.retry(id, name, (String) row.get("failed_step"), (String) row.get("path")));
    }

    /** The answer: which dump was taken up again, with which request, at which step. */
    private static Map<String, Object> takenUp(Map<String, Object> row, Step step) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", row.get("id"));
        out.put("dump", row.get("file_name"));
        out.put("request_id", row.get("request_id"));
        out.put("step", step.id());
        return out;
    }

    /** {@code --retry DUMP}: the same, from the command line, on the store the settings name ({@code settings}: null when not set). */
    public static int fromCommandLine(Function<String, String> settings, String idOrName) {
        try {
            Path dataDir = Path.of(orElse(settings.apply("courier.data-dir"), "data")).toAbsolutePath();
            DataSource store = Store.open(orElse(settings.apply("courier.store.url"), ""), orElse(settings.apply("courier.store.user"), ""),
                    orElse(settings.apply("courier.store.password"), ""), dataDir);
            // the store's keys are read with the secret they were sealed with, as the service reads them
            Rows rows = new Rows(store, KeyCipher.of(orElse(settings.apply("courier.store.secret"), "")));
            Dumps dumps = new Dumps(rows, new Queue(store, "retry", 1, System::currentTimeMillis), 1,
                    new com.odooupgradecourier.support.RetryPolicy(0, 1, 1), 1, System::currentTimeMillis);
            Map<String, Object> done = new Retry(rows, dumps, new Custody(dataDir), dataDir).retry(idOrName);
            System.out.println(done.get("dump") + " (" + done.get("id") + "): taken up again at step " + done.get("step")
                    + (done.get("request_id") == null ? "" : " with request " + done.get("request_id"))
                    + "; a running courier goes on with it at once, a stopped one when it starts.");
            return 0;
        } catch (Exception e) {
            System.err.println("--retry " + idOrName + ": " + e.getMessage());
            return 1;
        }
    }

    private static String orElse(String value, String fallback) {
        return value == null ? fallback : value;
    }
}

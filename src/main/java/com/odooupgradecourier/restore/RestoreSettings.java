package com.odooupgradecourier.restore;

import com.odooupgradecourier.support.Settings;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The settings of the restore after delivery ({@code courier.restore.*}).
 *
 * @param url                {@code courier.restore.url}: the JDBC URL of a maintenance database; empty: no restore
 * @param user               the configured role (CREATEDB and CREATEROLE): it makes each restore's role and database
 * @param owner              {@code courier.restore.owner}: who owns a restored database afterwards (empty: {@code user})
 * @param filestoreDir       {@code courier.restore.filestore-dir} (Odoo's {@code data_dir/filestore}), or null
 * @param sourceFilestoreDir {@code courier.restore.source-filestore-dir}: where the source databases' filestores are, or null
 * @param nameTemplate       {@code courier.restore.name}, with {@code ${stem}} and {@code ${target}}
 * @param binDir             {@code courier.restore.bin-dir}, or null for the PATH
 * @param timeout            {@code courier.restore.timeout}: a restore's programs are ended, and its database dropped, past it
 */
public record RestoreSettings(String url, String user, String password, String owner, Path filestoreDir, Path sourceFilestoreDir,
                              String nameTemplate, int jobs, Path binDir, Duration timeout) {

    public boolean configured() {
        return url != null && !url.isBlank();
    }

    /** The settings as the service reads them. */
    public static RestoreSettings from(Settings s) {
        return new RestoreSettings(s.text("courier.restore.url", ""), s.text("courier.restore.user", ""),
                s.text("courier.restore.password", ""), s.text("courier.restore.owner", ""),
                path(s.text("courier.restore.filestore-dir", "")), path(s.text("courier.restore.source-filestore-dir", "")),
                s.text("courier.restore.name", "${stem}_${target}"), (int) s.whole("courier.restore.jobs", 1, 1, 64, "parallel jobs"),
                s.text("courier.restore.bin-dir", "").isEmpty() ? null : Path.of(s.text("courier.restore.bin-dir", "")),
                Duration.ofSeconds(s.whole("courier.restore.timeout", 21_600, 1, 30L * 86_400, "seconds")));
    }

    private static Path path(String value) {
        return value.isEmpty() ? null : Path.of(value).toAbsolutePath();
    }
}

package com.odooupgradecourier.store;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small record beside each dump in custody ({@code data/dumps/<id>/.journal.json}) of what the store knows of its
 * platform request: its id, its key (sealed as the store seals it), its host, whether the platform holds the whole dump,
 * and the settings the dump was admitted with. A store that was lost (deleted, restored from an old backup) is rebuilt
 * from it at the next start: the dump resumes the same request instead of creating a second one.
 *
 * <p>Written when the request is created and when the upload is complete, always whole (a temporary file synced and
 * renamed); removed when the dump leaves custody (delivered, failed): it holds the request's key.
 */
public final class Journal {
    /** The journal's file name in a dump's custody folder: hidden, never taken for a dump. */
    public static final String NAME = ".journal.json";
    /** The columns a journal keeps, as the store holds them (the key sealed). */
    static final List<String> COLUMNS = List.of("id", "file_name", "size", "sha256", "format", "platform_name", "contract", "email",
            "target", "aim", "timezone", "restore", "restore_name", "env_vars", "request_id", "request_key", "host_uri",
            "received_millis", "file_stamp", "sha256_from", "step");
    private static final ObjectMapper JSON = new ObjectMapper();

    private Journal() {
    }

    /** Writes the journal of a dump in custody ({@code folder}: its own folder) from its row. */
    static void write(Path folder, Map<String, Object> row) throws IOException {
        Map<String, Object> kept = new LinkedHashMap<>();
        for (String column : COLUMNS) {
            kept.put(column, row.get(column));
        }
        Path tmp = folder.resolve(NAME + ".tmp");
        Files.deleteIfExists(tmp);
        try (FileChannel out = FileChannel.open(Files.createFile(tmp, PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rw-------"))), StandardOpenOption.WRITE)) {
            out.write(java.nio.ByteBuffer.wrap(JSON.writeValueAsBytes(kept)));
            out.force(true);
        }
        Files.move(tmp, folder.resolve(NAME), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The journal of a dump's folder, or null when it has none (or none that can be read). */
    public static Map<String, Object> read(Path folder) {
        Path file = folder.resolve(NAME);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            return JSON.readValue(file.toFile(), new TypeReference<Map<String, Object>>() { });
        } catch (IOException e) {
            return null;
        }
    }
}

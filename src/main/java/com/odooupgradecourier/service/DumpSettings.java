package com.odooupgradecourier.service;

import com.odooupgradecourier.dump.BadDumpException;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import com.odooupgradecourier.support.Custody;
import com.odooupgradecourier.support.Moves;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;

/**
 * The settings a dump is sent with: the configured ones ({@code upgrade.*}), overridden for one dump by a
 * sidecar file {@code <dump file name>.properties} dropped with or before it (partners upgrade many
 * customers, each with their own contract). Unknown keys are an error, never silently ignored.
 */
public class DumpSettings {
    static final List<String> KEYS = List.of("contract", "email", "target", "aim", "timezone");
    private final Map<String, String> defaults;

    public DumpSettings(Map<String, String> defaults) {
        this.defaults = Map.copyOf(defaults);
    }

    /** Moves the sidecar of a dump just taken into custody from the drop folder to beside the dump. */
    public void takeSidecar(@ExchangeProperty("dropDir") String dropDir, @ExchangeProperty("fileName") String fileName,
                            @ExchangeProperty("dumpPath") String dumpPath) throws IOException {
        Path sidecar = Custody.sidecar(Path.of(dropDir).resolve(fileName));
        if (Files.exists(sidecar)) {
            Moves.moveNew(sidecar, Custody.sidecar(Path.of(dumpPath)));
        }
    }

    /** Sets the exchange properties contract, email, target, aim, timezone (and settingsFrom). */
    public void apply(Exchange exchange) throws BadDumpException, IOException {
        defaults.forEach(exchange::setProperty);
        Path sidecar = Custody.sidecar(Path.of(exchange.getProperty("dumpPath", String.class)));
        if (!Files.exists(sidecar)) {
            exchange.setProperty("settingsFrom", "application.properties");
            return;
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(sidecar, StandardCharsets.UTF_8)) {
            p.load(r);
        }
        TreeSet<String> unknown = new TreeSet<>(p.stringPropertyNames());
        unknown.removeAll(KEYS);
        if (!unknown.isEmpty()) {
            throw new BadDumpException("unknown setting(s) " + unknown + " in " + sidecar.getFileName()
                    + ": a dump's own settings may set only " + KEYS + ". Correct the file and drop both again.");
        }
        for (String key : p.stringPropertyNames()) {
            exchange.setProperty(key, p.getProperty(key).trim());
        }
        exchange.setProperty("settingsFrom", sidecar.getFileName().toString());
    }
}

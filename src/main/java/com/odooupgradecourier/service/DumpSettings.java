package com.odooupgradecourier.service;

import com.odooupgradecourier.dump.BadDumpException;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
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
    private static final long MAX_BYTES = 64 * 1024;
    private static final java.util.regex.Pattern SETTING_NAME = java.util.regex.Pattern.compile("[a-z][a-z0-9]{0,20}([._-][a-z0-9]{1,20}){0,3}");
    private final Map<String, String> defaults;

    private final long settleTimeoutMillis;

    /** @param settleTimeoutMillis {@code courier.settle-timeout}: how long a settings file may wait for its dump */
    public DumpSettings(Map<String, String> defaults, long settleTimeoutMillis) {
        this.defaults = Map.copyOf(defaults);
        this.settleTimeoutMillis = settleTimeoutMillis;
    }

    /**
     * Whether a settings file in the drop folder is stray: older than {@code courier.settle-timeout} and its dump
     * (the same name without {@code .properties}) is not in the drop folder.
     */
    public boolean stray(@org.apache.camel.Header("CamelFileAbsolutePath") String path) throws IOException {
        Path sidecar = Path.of(path);
        String name = sidecar.getFileName().toString();
        Path dump = sidecar.resolveSibling(name.substring(0, name.length() - ".properties".length()));
        long age = System.currentTimeMillis() - Files.getLastModifiedTime(sidecar, LinkOption.NOFOLLOW_LINKS).toMillis();
        return age > settleTimeoutMillis && !Files.exists(dump, LinkOption.NOFOLLOW_LINKS);
    }

    /** What is wrong with a stray settings file. */
    public BadDumpException strayError(@ExchangeProperty("fileName") String name) {
        return new BadDumpException("a settings file with no dump: " + name.substring(0, name.length() - ".properties".length())
                + " was not in the drop folder within courier.settle-timeout (it may have been taken before its settings came). "
                + "Drop the settings file first, or together with its dump; to apply it, drop it again with the dump.");
    }

    /** Moves the sidecar of a dump just taken into custody from the drop folder to beside the dump. */
    public void takeSidecar(@ExchangeProperty("dropDir") String dropDir, @ExchangeProperty("fileName") String fileName,
                            @ExchangeProperty("dumpPath") String dumpPath) throws IOException {
        Path sidecar = Custody.sidecar(Path.of(dropDir).resolve(fileName));
        if (Files.exists(sidecar, LinkOption.NOFOLLOW_LINKS)) {
            Moves.moveNew(sidecar, Custody.sidecar(Path.of(dumpPath)));
        }
    }

    /** Sets the exchange properties contract, email, target, aim, timezone (and settingsFrom). */
    public void apply(Exchange exchange) throws BadDumpException, IOException {
        defaults.forEach(exchange::setProperty);
        Path sidecar = Custody.sidecar(Path.of(exchange.getProperty("dumpPath", String.class)));
        if (!Files.exists(sidecar, LinkOption.NOFOLLOW_LINKS)) {
            exchange.setProperty("settingsFrom", "application.properties");
            return;
        }
        // a settings file is a small file of its own: never a link to another file, whose lines would be shown
        if (!Files.isRegularFile(sidecar, LinkOption.NOFOLLOW_LINKS) || Files.size(sidecar) > MAX_BYTES) {
            throw new BadDumpException(sidecar.getFileName() + " is not read: a dump's settings file must be a plain file (not a link) "
                    + "of at most " + MAX_BYTES / 1024 + " KiB, setting only " + KEYS + ". Correct it and drop both again.");
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(sidecar, StandardCharsets.UTF_8)) {
            p.load(r);
        }
        TreeSet<String> unknown = new TreeSet<>(p.stringPropertyNames());
        unknown.removeAll(KEYS);
        if (!unknown.isEmpty()) {
            // unknown keys are named (never their values), and only when they look like the name of a setting
            List<String> named = unknown.stream().filter(k -> SETTING_NAME.matcher(k).matches()).toList();
            long other = unknown.size() - named.size();
            throw new BadDumpException("unknown setting(s) " + named + (other == 0 ? "" : " and " + other + " line(s) that are not settings")
                    + " in " + sidecar.getFileName() + ": a dump's own settings may set only " + KEYS
                    + ". Correct the file and drop both again.");
        }
        for (String key : p.stringPropertyNames()) {
            exchange.setProperty(key, p.getProperty(key).trim());
        }
        exchange.setProperty("settingsFrom", sidecar.getFileName().toString());
    }
}

package com.odooupgradecourier.dump;

import com.odooupgradecourier.dump.BadDumpException;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import com.odooupgradecourier.dump.Custody;
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
    static final List<String> KEYS = List.of("contract", "email", "target", "aim", "timezone", "restore", "restore-name",
            "source-database", "source", "production-without-test");
    private static final long MAX_BYTES = 64 * 1024;
    private static final java.util.regex.Pattern ENV_KEY = java.util.regex.Pattern.compile("env\\.\\w+");
    private static final java.util.regex.Pattern SETTING_NAME = java.util.regex.Pattern.compile("[a-z][a-z0-9]{0,20}([._-][a-z0-9]{1,20}){0,3}");
    private final Map<String, String> defaults;

    /** How long a settings file dropped before its dump waits for it. */
    static final long WAIT_FOR_DUMP_MILLIS = 24 * 3600 * 1000L;
    private final long settleTimeoutMillis;
    private final javax.sql.DataSource store;

    /**
     * @param settleTimeoutMillis {@code courier.settle-timeout}: a settings file this young is left alone
     * @param store               where the dumps received are recorded
     */
    private final boolean envVars;

    public DumpSettings(Map<String, String> defaults, long settleTimeoutMillis, javax.sql.DataSource store) {
        this(defaults, settleTimeoutMillis, store, false);
    }

    /** @param envVars whether {@code env.<VAR>} lines are settings (upgrade.api = jsonrpc sends them with create) */
    public DumpSettings(Map<String, String> defaults, long settleTimeoutMillis, javax.sql.DataSource store, boolean envVars) {
        this.envVars = envVars;
        this.defaults = Map.copyOf(defaults);
        this.settleTimeoutMillis = settleTimeoutMillis;
        this.store = store;
    }

    /**
     * Whether a settings file in the drop folder is stray: its dump (the same name without {@code .properties}) is
     * not in the drop folder, and either a dump of that name was received before the settings file came (it came
     * too late), or it waited a day for its dump. A settings file dropped first waits for its dump, however its dump
     * is copied (under a temporary name, then renamed).
     */
    public boolean stray(@org.apache.camel.Header("CamelFileAbsolutePath") String path) throws Exception {
        Path sidecar = Path.of(path);
        String name = sidecar.getFileName().toString();
        String dumpName = name.substring(0, name.length() - ".properties".length());
        long modified = Files.getLastModifiedTime(sidecar, LinkOption.NOFOLLOW_LINKS).toMillis();
        long age = System.currentTimeMillis() - modified;
        if (age <= settleTimeoutMillis || Files.exists(sidecar.resolveSibling(dumpName), LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        if (age > WAIT_FOR_DUMP_MILLIS) {
            return true;
        }
        try (var c = store.getConnection();
             var s = c.prepareStatement("select count(*) from dumps where file_name = ? and received_millis between ? and ?")) {
            s.setString(1, dumpName);
            s.setLong(2, modified - WAIT_FOR_DUMP_MILLIS);
            s.setLong(3, modified);
            try (var rs = s.executeQuery()) {
                return rs.next() && rs.getInt(1) > 0;
            }
        }
    }

    /** What is wrong with a stray settings file. */
    public BadDumpException strayError(@ExchangeProperty("fileName") String name) {
        return new BadDumpException("a settings file with no dump: " + name.substring(0, name.length() - ".properties".length())
                + " was taken before its settings came, or did not come within a day. Drop a settings file before its dump "
                + "(or with it); to use it, drop it again together with the dump.");
    }

    /** Moves the sidecar of a dump just taken into custody from the drop folder to beside the dump. */
    public void takeSidecar(@ExchangeProperty("dropDir") String dropDir, @ExchangeProperty("fileName") String fileName,
                            @ExchangeProperty("dumpPath") String dumpPath) throws IOException {
        Path sidecar = Custody.sidecar(Path.of(dropDir).resolve(fileName));
        if (Files.exists(sidecar, LinkOption.NOFOLLOW_LINKS)) {
            Moves.moveNew(sidecar, Custody.sidecar(Path.of(dumpPath)));
        }
    }

    /**
     * The settings of a sidecar file: a byte order mark (Notepad writes one) is not part of the first key; a key given
     * twice is refused, naming both lines by number (a value is never shown).
     */
    static Properties read(Path sidecar) throws IOException, BadDumpException {
        String text = Files.readString(sidecar, StandardCharsets.UTF_8);
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        List<String> twice = new java.util.ArrayList<>();
        Properties p = new Properties() {
            @Override
            public synchronized Object put(Object key, Object value) {
                if (containsKey(key)) {
                    twice.add((String) key);
                }
                return super.put(key, value);
            }
        };
        try (Reader r = new java.io.StringReader(text)) {
            p.load(r);
        }
        if (!twice.isEmpty()) {
            String key = twice.get(0);
            List<String> lines = text.lines().toList();
            List<String> where = new java.util.ArrayList<>();
            java.util.regex.Pattern line = java.util.regex.Pattern.compile("\\s*" + java.util.regex.Pattern.quote(key) + "\\s*[=:\\s].*|\\s*"
                    + java.util.regex.Pattern.quote(key) + "\\s*");
            for (int i = 0; i < lines.size(); i++) {
                if (line.matcher(lines.get(i)).matches()) {
                    // the lines by number only: a value (a contract, an environment variable) is never shown
                    where.add("line " + (i + 1));
                }
            }
            throw new BadDumpException((SETTING_NAME.matcher(key).matches() || ENV_KEY.matcher(key).matches() ? key : "a key")
                    + " is given twice in " + sidecar.getFileName() + " (" + String.join(" and ", where)
                    + "): give each setting once. Correct the file and drop both again.");
        }
        return p;
    }

    /** Sets the exchange properties contract, email, target, aim, timezone, restore, restoreName (and settingsFrom). */
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
        Properties p = read(sidecar);
        TreeSet<String> unknown = new TreeSet<>(p.stringPropertyNames());
        unknown.removeAll(KEYS);
        // env.<VAR>=<value>: an environment variable the platform upgrades the dump with (upgrade.api = jsonrpc)
        if (envVars) {
            unknown.removeIf(k -> ENV_KEY.matcher(k).matches());
        }
        if (!unknown.isEmpty()) {
            // unknown keys are named (never their values), and only when they look like the name of a setting given a
            // value (key = value, key: value): a line of one word may be a value on its own (a pasted password)
            List<String> named = unknown.stream().filter(k -> SETTING_NAME.matcher(k).matches() && givenAValue(sidecar, k)).toList();
            long other = unknown.size() - named.size();
            throw new BadDumpException("unknown setting(s) " + named + (other == 0 ? "" : " and " + other + " line(s) that are not settings")
                    + " in " + sidecar.getFileName() + ": a dump's own settings may set only " + KEYS
                    + (envVars ? " and env.<VAR> (an environment variable of the upgrade)" : "")
                    + ". Correct the file and drop both again.");
        }
        StringBuilder env = new StringBuilder();
        for (String key : new TreeSet<>(p.stringPropertyNames())) {
            if (ENV_KEY.matcher(key).matches()) {
                String value = p.getProperty(key);
                if (value.contains("\n") || value.contains("\r")) {
                    throw new BadDumpException("the value of " + key + " in " + sidecar.getFileName() + " spans lines: an environment "
                            + "variable is one line. Correct the file and drop both again.");
                }
                env.append(key.substring("env.".length())).append('=').append(value).append('\n');
            } else if (key.equals("aim") && !List.of("test", "production").contains(p.getProperty(key).trim())) {
                // the platform takes these two, in lower case: anything else would be held or sent and refused there
                throw new BadDumpException("aim in " + sidecar.getFileName() + " is '" + p.getProperty(key).trim() + "': test or production "
                        + "(lower case). Correct the file and drop both again.");
            } else {
                exchange.setProperty(key.equals("restore-name") ? "restoreName" : key.equals("source-database") ? "sourceDatabase"
                        : key.equals("production-without-test") ? "productionWithoutTest" : key,
                        p.getProperty(key).trim());
            }
        }
        if (env.length() > 0) {
            exchange.setProperty("envVars", env.toString());
        }
        exchange.setProperty("settingsFrom", sidecar.getFileName().toString());
    }

    /** Whether a line of the file sets {@code key} with a separator (=, :), not a word alone on its line. */
    private static boolean givenAValue(Path sidecar, String key) {
        java.util.regex.Pattern set = java.util.regex.Pattern.compile("\\s*" + java.util.regex.Pattern.quote(key) + "\\s*[=:].*");
        try {
            return Files.readAllLines(sidecar, StandardCharsets.UTF_8).stream().anyMatch(l -> set.matcher(l.replace("\uFEFF", "")).matches());
        } catch (IOException e) {
            return false;
        }
    }
}

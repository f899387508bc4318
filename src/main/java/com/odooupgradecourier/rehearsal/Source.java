package com.odooupgradecourier.rehearsal;

import com.odooupgradecourier.support.Settings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A live database the courier rehearses the upgrade of, on a schedule: {@code courier.sources} names them, each set by
 * {@code courier.source.<name>.*} keys (so each key, the password above all, can come from its environment variable,
 * {@code COURIER_SOURCE_<NAME>_PASSWORD}, by the rule every setting follows).
 *
 * @param name     the source's name: lower-case letters, digits and underscores
 * @param host     the server, from {@code url} ({@code jdbc:postgresql://host[:port]/database})
 * @param database the database's name on its server
 * @param user     who pg_dump connects as (empty: the service's user)
 * @param password never logged, recorded or put on a command line: pg_dump gets it in its environment
 * @param filestore the database's filestore folder ({@code <data_dir>/filestore/<database>}), or null: the dump is sent
 *                  without one
 * @param cron     a Quartz cron expression, e.g. {@code 0 0 2 * * ?} (every night at 2)
 * @param keep     how many rehearsal databases of this source are kept (when restores are configured); older ones are dropped
 * @param productionWithoutTest a source with aim production sent without a recent test of it
 */
public record Source(String name, String host, String port, String database, String user, String password, Path filestore,
                     String target, String contract, String aim, String cron, int keep, boolean productionWithoutTest) {
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]{0,30}");
    private static final Pattern JDBC = Pattern.compile("jdbc:postgresql://([^/:?]+)(?::(\\d+))?/([A-Za-z0-9][A-Za-z0-9_.-]{0,62})");

    /** The environment pg_dump connects with (never its arguments). */
    Map<String, String> connection() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PGHOST", host);
        env.put("PGPORT", port);
        env.put("PGDATABASE", database);
        if (!user.isEmpty()) {
            env.put("PGUSER", user);
        }
        if (!password.isEmpty()) {
            env.put("PGPASSWORD", password);
        }
        return env;
    }

    /** What the page and the log may show of it: never the password. */
    public Map<String, Object> shown() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("source", name);
        m.put("database", database);
        m.put("server", host + ":" + port);
        m.put("target", target);
        m.put("aim", aim);
        m.put("schedule", cron);
        m.put("keep", keep);
        m.put("filestore", filestore == null ? null : filestore.toString());
        return m;
    }

    /**
     * The sources the settings name, each checked: one line per mistake, naming the key and its environment variable.
     *
     * @throws Settings.Invalid a setting that cannot work
     */
    public static List<Source> from(Settings s) {
        List<Source> out = new ArrayList<>();
        String names = s.text("courier.sources", "");
        String defaultTarget = s.text("upgrade.target", "17.0");
        String defaultContract = s.text("upgrade.contract", "");
        for (String raw : names.split(",")) {
            String name = raw.trim();
            if (name.isEmpty()) {
                continue;
            }
            if (!NAME.matcher(name).matches()) {
                throw Settings.invalid("courier.sources", names, "names of sources, separated by commas: lower-case letters, digits and "
                        + "underscores, starting with a letter (at most 31)");
            }
            String k = "courier.source." + name + ".";
            String url = s.text(k + "url", "");
            Matcher m = JDBC.matcher(url);
            if (!m.matches()) {
                throw Settings.invalid(k + "url", url.replaceAll("(?i)password=[^&]*", "password=***"),
                        "the source database as jdbc:postgresql://host[:port]/database (the password in " + k + "password, "
                        + Settings.envName(k + "password") + ", never in the URL)");
            }
            String cron = s.text(k + "schedule", "");
            if (!org.quartz.CronExpression.isValidExpression(cron)) {
                throw Settings.invalid(k + "schedule", cron, "a Quartz cron expression: seconds minutes hours day-of-month month "
                        + "day-of-week, e.g. '0 0 2 * * ?' (every night at 2:00)");
            }
            String filestore = s.text(k + "filestore", "");
            Path fs = filestore.isEmpty() ? null : Path.of(filestore).toAbsolutePath();
            if (fs != null && !java.nio.file.Files.isDirectory(fs)) {
                throw Settings.invalid(k + "filestore", filestore, "the source database's filestore folder (Odoo's "
                        + "<data_dir>/filestore/<database>), which must exist");
            }
            String aim = s.oneOf(k + "aim", "test", "test", "production").toLowerCase(Locale.ROOT);
            String target = s.text(k + "target", defaultTarget);
            String contract = s.text(k + "contract", defaultContract);
            int keep = (int) s.whole(k + "keep", 3, 1, 100, "rehearsal databases kept");
            boolean without = Boolean.parseBoolean(s.oneOf(k + "production-without-test", "false", "true", "false"));
            out.add(new Source(name, m.group(1), m.group(2) == null ? "5432" : m.group(2), m.group(3), s.text(k + "user", ""),
                    s.text(k + "password", ""), fs, target, contract, aim, cron, keep, without));
        }
        return out;
    }

    @Override
    public String toString() {
        // a record's own toString would name the password
        return "Source[" + name + ", " + host + ":" + port + "/" + database + "]";
    }
}

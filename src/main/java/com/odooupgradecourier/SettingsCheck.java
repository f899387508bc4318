package com.odooupgradecourier;

import com.odooupgradecourier.support.Secrets;
import com.odooupgradecourier.support.Settings;
import com.odooupgradecourier.transfer.Sizes;
import java.util.List;
import org.apache.camel.CamelContext;
import org.apache.camel.Component;
import org.apache.camel.Endpoint;

/**
 * Every setting with a type, checked before anything starts: a value that cannot work stops the start in one line
 * that names the key, the value and what is allowed, instead of an error deep inside a route later.
 */
final class SettingsCheck {
    private static final long DAY_MILLIS = 86_400_000L;

    private SettingsCheck() {
    }

    static void check(Settings s, CamelContext context) {
        s.whole("upgrade.poll-interval", 60, 1, 86_400, "seconds");
        s.whole("upgrade.retry.attempts", 6, 0, 100, "retries");
        long delay = s.whole("upgrade.retry.delay", 2000, 0, DAY_MILLIS, "milliseconds");
        long maxDelay = s.whole("upgrade.retry.max-delay", 120_000, 0, DAY_MILLIS, "milliseconds");
        if (maxDelay < delay) {
            throw Settings.invalid("upgrade.retry.max-delay", String.valueOf(maxDelay), "at least upgrade.retry.delay (" + delay + ")");
        }
        s.whole("upgrade.timeout", 604_800, 1, Long.MAX_VALUE / 1000, "seconds");
        long settle = s.whole("courier.settle-time", 5000, 0, DAY_MILLIS, "milliseconds");
        long settleTimeout = s.whole("courier.settle-timeout", 30_000, 1, DAY_MILLIS, "milliseconds");
        if (settleTimeout <= settle) {
            throw Settings.invalid("courier.settle-timeout", String.valueOf(settleTimeout), "more than courier.settle-time (" + settle
                    + " ms): how long a file may keep changing before it is said to be still written");
        }
        s.whole("courier.lease-time", 20, 2, 86_400, "seconds");
        s.whole("courier.queue-interval", 1000, 10, 3_600_000, "milliseconds");
        s.whole("courier.max-parallel-transfers", 2, 1, 64, "transfers");
        s.whole("courier.progress-interval", 30, 1, 86_400, "seconds");
        s.whole("courier.http-port", 8080, 1, 65_535, "a TCP port");
        s.whole("courier.cluster.acquire-lock-interval", 2000, 10, DAY_MILLIS, "milliseconds");
        s.whole("courier.cluster.acquire-lock-delay", 500, 0, DAY_MILLIS, "milliseconds");
        s.whole("courier.cluster.heartbeat-timeout-multiplier", 5, 1, 1000, "intervals");
        s.whole("courier.restore.jobs", 1, 1, 64, "parallel jobs");
        s.whole("courier.restore.parallel", 2, 1, 64, "restores");
        s.whole("courier.restore.timeout", 21_600, 1, 30L * 86_400, "seconds");
        s.whole("upgrade.sftp.channels", 8, 1, 16, "channels");
        s.oneOf("upgrade.transfer", "auto", "auto", "https", "sftp");
        s.oneOf("upgrade.download", "url", "url", "sftp");
        s.oneOf("courier.keep-dumps", "archive", "archive", "delete");
        String api = s.text("upgrade.api", "v1");
        if (!java.util.List.of("v1", "jsonrpc").contains(api)) {
            throw Settings.invalid("upgrade.api", api, "v1 (the seed's database/v1 API) or jsonrpc (the protocol of Odoo's current "
                    + "upgrade client)");
        }
        String threshold = s.text("upgrade.sftp-threshold", "64MB");
        try {
            Sizes.parse(threshold);
        } catch (IllegalArgumentException e) {
            throw Settings.invalid("upgrade.sftp-threshold", threshold, "a size such as 64MB, 2GB or 1048576 (bytes)");
        }
        s.oneOf("upgrade.aim", "test", "test", "production");
        apiUrl(s);
        String ignore = s.text("courier.ignore-pattern", "");
        try {
            java.util.regex.Pattern.compile(ignore);
        } catch (java.util.regex.PatternSyntaxException e) {
            throw Settings.invalid("courier.ignore-pattern", ignore, "a regular expression (Java's) of the file names the drop folder "
                    + "leaves alone: " + e.getDescription() + " at index " + e.getIndex());
        }
        s.whole("courier.production.max-test-age", 604_800, 0, Long.MAX_VALUE / 1000, "seconds");
        s.oneOf("courier.production.without-test", "false", "true", "false");
        s.whole("courier.rehearsal.dump-timeout", 21_600, 1, 30L * 86_400, "seconds");
        // each source's url, schedule, filestore, aim and keep: one line for the first that cannot work
        com.odooupgradecourier.rehearsal.Source.from(s);
        folders(s);
        output(s, context);
        endpoint(s, context, "courier.notify-uri", "log:courier.notify", "an endpoint URI this service can send events to, e.g. "
                + "log:courier.notify, http://…, file:events, or another Camel component it has");
    }

    /** The platform's address: http or https, with a host. */
    private static void apiUrl(Settings s) {
        String url = s.text("upgrade.api-url", "https://upgrade.odoo.com/database/v1");
        String shown = Secrets.maskUri(url);
        try {
            java.net.URI u = new java.net.URI(url);
            if (u.getScheme() != null && List.of("http", "https").contains(u.getScheme().toLowerCase(java.util.Locale.ROOT))
                    && u.getHost() != null && !u.getHost().isEmpty()) {
                return;
            }
        } catch (java.net.URISyntaxException e) {
            // said below
        }
        throw Settings.invalid("upgrade.api-url", shown, "the platform's address, http:// or https:// with a host, e.g. "
                + "https://upgrade.odoo.com/database/v1 (v1) or https://upgrade.odoo.com (jsonrpc)");
    }

    /**
     * The service's own folders apart: a failed folder in or above the drop folder would take every bounced dump and its
     * error record as a new dump, one after the other; a data folder there would mix custody with what users drop.
     */
    private static void folders(Settings s) {
        List<String> keys = List.of("courier.drop-dir", "courier.data-dir", "courier.failed-dir");
        List<String> defaults = List.of("drop", "data", "failed");
        for (int i = 0; i < keys.size(); i++) {
            for (int j = 0; j < keys.size(); j++) {
                java.nio.file.Path a = java.nio.file.Path.of(s.text(keys.get(i), defaults.get(i))).toAbsolutePath().normalize();
                java.nio.file.Path b = java.nio.file.Path.of(s.text(keys.get(j), defaults.get(j))).toAbsolutePath().normalize();
                if (i < j && (a.startsWith(b) || b.startsWith(a))) {
                    String later = keys.get(j);
                    throw Settings.invalid(later, s.text(later, defaults.get(j)), "a folder apart from " + keys.get(i) + " (" + a + "): "
                            + (keys.get(i).equals("courier.drop-dir") ? "what the service writes there would be taken as new dumps"
                            : "the service keeps different things in each"));
                }
            }
        }
    }

    /**
     * Where archives are delivered: a folder or a file server (file, sftp, ftp, ftps), and never one of the service's own
     * folders: an output in the drop folder would take every delivered archive as a new dump, one new platform request
     * after the other; in the data or failed folder, archives would mix with what the service keeps there.
     */
    private static void output(Settings s, CamelContext context) {
        String uri = s.text("courier.output-uri", "file:out");
        String scheme = uri.indexOf(':') > 0 ? uri.substring(0, uri.indexOf(':')).toLowerCase(java.util.Locale.ROOT) : "";
        String allowed = "a folder or a file server archives are delivered to: file:<folder>, sftp://user@host:22/<folder>?…, "
                + "ftp://… or ftps://…";
        if (!List.of("file", "sftp", "ftp", "ftps").contains(scheme)) {
            throw Settings.invalid("courier.output-uri", Secrets.maskUri(uri), allowed);
        }
        endpoint(s, context, "courier.output-uri", "file:out", allowed);
        if (!scheme.equals("file")) {
            return;
        }
        String folder = uri.substring("file:".length());
        int options = folder.indexOf('?');
        java.nio.file.Path out = java.nio.file.Path.of(options < 0 ? folder : folder.substring(0, options)).toAbsolutePath().normalize();
        for (String key : List.of("courier.drop-dir", "courier.data-dir", "courier.failed-dir")) {
            java.nio.file.Path own = java.nio.file.Path.of(s.text(key, "")).toAbsolutePath().normalize();
            if (out.startsWith(own) || own.startsWith(out)) {
                throw Settings.invalid("courier.output-uri", uri, "a folder apart from " + key + " (" + own + "): "
                        + (key.equals("courier.drop-dir") ? "every archive delivered there would be taken as a new dump"
                        : "what is delivered would mix with what the service keeps there"));
            }
        }
    }

    /** Route files of an earlier version the present one no longer has: they would load beside its own. */
    private static final java.util.List<String> STALE_ROUTES = java.util.List.of("platform.yaml", "notes.yaml",
            "platform-v1/poll.yaml", "platform-v1/notes.yaml", "platform-jsonrpc/poll.yaml", "platform-jsonrpc/call.yaml");

    /**
     * Route files of an earlier version left in routes/ by copying the new routes over the old (its top-level platform
     * calls, its per-protocol step routes): they would load beside the present ones with the same route ids.
     */
    static void routes(String includePattern) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("file:([^,]*?)routes/\\*\\.yaml").matcher(includePattern);
        if (!m.find()) {
            return;
        }
        java.nio.file.Path routes = java.nio.file.Path.of(m.group(1).isEmpty() ? "." : m.group(1)).resolve("routes");
        java.util.List<String> stale = STALE_ROUTES.stream().filter(f -> java.nio.file.Files.exists(routes.resolve(f))).toList();
        if (!stale.isEmpty()) {
            throw new IllegalStateException(routes + " holds " + String.join(", ", stale) + " of an earlier version: the steps are in "
                    + "routes/ and each protocol's calls in routes/platform-v1/ and routes/platform-jsonrpc/ now. Install routes/ "
                    + "afresh (remove the old folder first)");
        }
    }

    /** An endpoint the service writes to: a component it has, and a URI that component takes. */
    private static void endpoint(Settings s, CamelContext context, String key, String fallback, String allowed) {
        String uri = s.text(key, fallback);
        String shown = Secrets.maskUri(uri);
        int colon = uri.indexOf(':');
        Component component = colon <= 0 ? null : context.getComponent(uri.substring(0, colon), true, false);
        if (component == null) {
            throw Settings.invalid(key, shown, allowed);
        }
        try {
            Endpoint endpoint = context.getEndpoint(uri);
            if (endpoint == null) {
                throw Settings.invalid(key, shown, allowed);
            }
        } catch (RuntimeException e) {
            if (e instanceof Settings.Invalid invalid) {
                throw invalid;
            }
            // the component's own words name its options; only the first sentence, the URI masked
            String why = Secrets.maskUri(String.valueOf(rootMessage(e)).replace(uri, shown));
            int end = why.indexOf(". ");
            throw Settings.invalid(key, shown, allowed + " (" + (end > 0 ? why.substring(0, end) : why) + ")");
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage();
    }
}

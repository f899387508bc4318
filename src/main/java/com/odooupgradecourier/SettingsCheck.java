package com.odooupgradecourier;

import com.odooupgradecourier.support.Secrets;
import com.odooupgradecourier.support.Settings;
import com.odooupgradecourier.transfer.Sizes;
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
        s.whole("courier.settle-time", 5000, 0, DAY_MILLIS, "milliseconds");
        s.whole("courier.settle-timeout", 30_000, 1, DAY_MILLIS, "milliseconds");
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
        s.whole("upgrade.sftp.channels", 4, 1, 16, "channels");
        s.oneOf("upgrade.transfer", "auto", "auto", "https", "sftp");
        s.oneOf("upgrade.download", "url", "url", "sftp");
        s.oneOf("courier.keep-dumps", "archive", "archive", "delete");
        String threshold = s.text("upgrade.sftp-threshold", "64MB");
        try {
            Sizes.parse(threshold);
        } catch (IllegalArgumentException e) {
            throw Settings.invalid("upgrade.sftp-threshold", threshold, "a size such as 64MB, 2GB or 1048576 (bytes)");
        }
        endpoint(s, context, "courier.output-uri", "file:out");
        endpoint(s, context, "courier.notify-uri", "log:courier.notify");
    }

    /** An endpoint the service writes to: a component it has, and a URI that component takes. */
    private static void endpoint(Settings s, CamelContext context, String key, String fallback) {
        String uri = s.text(key, fallback);
        String shown = Secrets.maskUri(uri);
        int colon = uri.indexOf(':');
        String allowed = "an endpoint URI this service can write to, e.g. file:out, sftp://user@host:22/folder?…, or another Camel "
                + "component it has (file, sftp, ftp, ftps, http, https, log)";
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

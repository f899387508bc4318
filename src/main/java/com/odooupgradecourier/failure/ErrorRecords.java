package com.odooupgradecourier.failure;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.odooupgradecourier.platform.PlatformFailureException;
import com.odooupgradecourier.platform.TransientPlatformException;
import com.odooupgradecourier.platform.UpgradeTimeoutException;
import com.odooupgradecourier.support.Secrets;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.camel.Exchange;

/**
 * Builds the dead-letter record of a dump: what failed, at which step, what the platform said
 * (its {@code failures} list verbatim), and what to do about it. The request key is masked out of
 * every string in it.
 */
public class ErrorRecords {
    private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public String build(Exchange exchange) throws JsonProcessingException {
        Throwable error = failure(exchange);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("dump", exchange.getProperty("fileName"));
        r.put("outcome", "failed");
        r.put("step", exchange.getProperty("step"));
        r.put("request_id", exchange.getProperty("requestId"));
        r.put("state", exchange.getProperty("state"));
        r.put("customer_message", exchange.getProperty("customerMessage"));
        r.put("status_url", Secrets.maskUrl(exchange.getProperty("statusUrl", String.class)));
        r.put("failures", failures(error));
        r.put("error", describe(error));
        r.put("error_type", error == null ? null : error.getClass().getName());
        TransientPlatformException last = Faults.cause(error, TransientPlatformException.class);
        if (last != null && last.getHttpStatus() > 0) {
            r.put("http_status", last.getHttpStatus());
        }
        String kept = exchange.getProperty("whatToDo", String.class);
        r.put("what_to_do", kept != null ? kept : advice(error, exchange));
        r.put("dump_now_at", exchange.getProperty("dumpPath"));
        String archive = exchange.getProperty("archivePath", String.class);
        if (archive != null && java.nio.file.Files.exists(java.nio.file.Path.of(archive))) {
            r.put("archive_now_at", archive); // downloaded but not delivered: kept for a later delivery
        }
        r.put("dump_sha256", exchange.getProperty("dumpSha256"));
        r.put("dump_size", exchange.getProperty("dumpSize"));
        r.put("failed_at", OffsetDateTime.now(ZoneOffset.UTC).toString());
        // masked as an object, value by value, before it is written: a mask never meets JSON escapes
        return json.writeValueAsString(Secrets.maskAll(r, exchange.getProperty("requestKey", String.class)));
    }

    /** What a person can do about the failure (the record's what_to_do). */
    public String advice(Exchange exchange) {
        return advice(failure(exchange), exchange);
    }

    /** A one-line summary for the log, masked like the record. */
    public String summary(Exchange exchange) {
        return summaryOf(failure(exchange), exchange);
    }

    /** A one-line summary of {@code error} for the log, the exchange's request key masked. */
    public static String summaryOf(Throwable error, Exchange exchange) {
        return Secrets.mask(error == null ? "unknown error" : describe(error), exchange.getProperty("requestKey", String.class));
    }

    /**
     * The dump's lifetime ended while it waited after a fault that may pass: the failure becomes that, with
     * the last error as its cause.
     */
    public void lifetimeOver(Exchange exchange, @org.apache.camel.ExchangeProperty("lastError") String lastError) {
        Throwable last = failure(exchange);
        UpgradeTimeoutException timeout = new UpgradeTimeoutException("gave up after upgrade.timeout ("
                + exchange.getContext().resolvePropertyPlaceholders("{{upgrade.timeout}}") + " s since the dump was received) at step "
                + exchange.getProperty("dumpStep") + "; the last error: " + lastError);
        timeout.initCause(last);
        exchange.setProperty("failure", timeout);
        exchange.setProperty(Exchange.EXCEPTION_CAUGHT, timeout);
    }

    /** What went wrong: the failure the dead-letter route was given (kept while it runs), or the exception caught. */
    public static Throwable failure(Exchange exchange) {
        Throwable kept = exchange.getProperty("failure", Throwable.class);
        return kept != null ? kept : exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
    }

    /** The error's message, and its root cause's where that says more (e.g. "Auth fail" under "Cannot connect"). */
    public static String describe(Throwable error) {
        if (error == null) {
            return null;
        }
        Throwable root = error;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = String.valueOf(error.getMessage());
        return root == error || message.contains(String.valueOf(root.getMessage())) ? message
                : message + " (cause: " + root.getClass().getSimpleName() + ": " + root.getMessage() + ")";
    }

    private static List<Map<String, Object>> failures(Throwable error) {
        if (error instanceof PlatformFailureException p) {
            return p.getFailures();
        }
        TransientPlatformException t = Faults.cause(error, TransientPlatformException.class);
        return t == null ? List.of() : t.getFailures();
    }

    private static String advice(Throwable error, Exchange exchange) {
        return Faults.classify(error, exchange.getProperty("requestId") != null).whatToDo();
    }
}

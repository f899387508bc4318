package com.odooupgradecourier.support;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.odooupgradecourier.dump.BadDumpException;
import com.odooupgradecourier.dump.DuplicateDumpException;
import com.odooupgradecourier.platform.PlatformFailureException;
import com.odooupgradecourier.platform.TransientPlatformException;
import com.odooupgradecourier.platform.UpgradeFailedException;
import com.odooupgradecourier.platform.UpgradeTimeoutException;
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
        TransientPlatformException last = cause(error, TransientPlatformException.class);
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
        Throwable error = failure(exchange);
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
        TransientPlatformException t = cause(error, TransientPlatformException.class);
        return t == null ? List.of() : t.getFailures();
    }

    /** The error itself or the first of its causes of the given type. */
    private static <T extends Throwable> T cause(Throwable error, Class<T> type) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    private static String advice(Throwable error, Exchange exchange) {
        if (error instanceof DuplicateDumpException) {
            return "Nothing to do: the dump already in flight will be delivered. This copy was set aside here.";
        }
        if (error instanceof UpgradeTimeoutException) {
            return exchange.getProperty("requestId") == null
                    ? "The platform could not be reached for upgrade.timeout; drop the dump again once it is back."
                    : "Follow the request on the platform (status_url, with your request key) or ask Odoo support with the request id.";
        }
        if (error instanceof com.odooupgradecourier.platform.UnexpectedAnswerException) {
            return "The platform answered in a way the service does not know; it may have created a request. Drop the dump "
                    + "again to upgrade it, and tell the service's maintainers what the answer was.";
        }
        if (error instanceof com.odooupgradecourier.transfer.Downloads.UnsafeUrlException) {
            return "Check the download host named above; if the platform really serves archives from there, add it to "
                    + "upgrade.download-hosts, then retry the dump.";
        }
        if (error instanceof BadDumpException) {
            return "Fix or replace the file, then drop it into the drop folder again.";
        }
        if (error instanceof PlatformFailureException p) {
            boolean contract = p.getFailures().stream().anyMatch(f -> String.valueOf(f.get("reason")).startsWith("CONTRACT"));
            boolean target = p.getFailures().stream().anyMatch(f -> String.valueOf(f.get("reason")).startsWith("TARGET"));
            if (contract) {
                return "Correct the contract reference (upgrade.contract, or the dump's own settings file beside it here), "
                        + "then retry the dump (Retry on the status page, or --retry with its name).";
            }
            if (target) {
                return "Choose a target version from 'expected' (upgrade.target, or the dump's own settings file beside it "
                        + "here), then retry the dump (Retry on the status page, or --retry with its name).";
            }
            if (p.getFailures().stream().anyMatch(f -> "REQUEST:NOT_FOUND".equals(f.get("reason")))) {
                return "The platform no longer knows this request (its id or key): it was removed, or expired. Drop the dump "
                        + "again for a new request.";
            }
            return "Read the platform's failures above, correct the settings they name, then drop the dump again.";
        }
        if (error instanceof UpgradeFailedException) {
            return "The platform could not upgrade this database: read customer_message and the request's status page, "
                    + "contact Odoo support with the request id if needed.";
        }
        if (cause(error, com.jcraft.jsch.JSchException.class) != null) {
            return "An SFTP server refused the connection: check its address, the user's key, and the host key in the "
                    + "known_hosts file (a changed host key may mean the server was replaced, or an attack).";
        }
        if (String.valueOf(describe(error)).contains("No space left on device")) {
            return "A disk is full (the data folder, the output or the failed folder): free some space; the dump is kept "
                    + "where dump_now_at says, retry it then.";
        }
        if (cause(error, java.nio.file.AccessDeniedException.class) != null) {
            return "The service's user may not read or write a file or folder named above: give it (or its group) access, "
                    + "then retry the dump.";
        }
        if (cause(error, java.io.IOException.class) != null
                || error instanceof org.apache.camel.component.file.GenericFileOperationFailedException) {
            return "A file could not be read or written (see the error): fix the cause, then retry the dump.";
        }
        if (error instanceof TransientPlatformException) {
            return "The platform kept failing after every retry; it may be down. Drop the dump again later.";
        }
        return exchange.getProperty("requestId") == null
                ? "Drop the dump again once the cause is fixed."
                : "Follow the request on the platform with its id; drop the dump again once the cause is fixed.";
    }
}

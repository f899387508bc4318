package com.odooupgradecourier.platform;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The platform answered with a non-empty {@code failures} list that retrying will not fix.
 * The list is kept verbatim, every key of every failure, for the dead-letter record.
 */
public class PlatformFailureException extends Exception {
    private final transient List<Map<String, Object>> failures;

    public PlatformFailureException(String method, List<Map<String, Object>> failures) {
        super("The platform refused '" + method + "': " + failures.stream()
                .map(f -> f.get("reason") + " (" + f.get("message") + ")").collect(Collectors.joining("; ")));
        this.failures = List.copyOf(failures);
    }

    /** A refusal of the JSON-RPC protocol: its error message, verbatim. */
    public PlatformFailureException(String endpoint, String message) {
        super("The platform refused '" + endpoint + "': " + message);
        this.failures = List.of(Map.of("reason", "JSONRPC:ERROR", "message", message));
    }

    public List<Map<String, Object>> getFailures() {
        return failures;
    }
}

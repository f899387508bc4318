package com.odooupgradecourier.platform;

import java.util.List;
import java.util.Map;

/**
 * A fault that may go away: HTTP 5xx, a page that is not the API's JSON, or the reason
 * {@code SERVER:ERROR}. Routes retry it with back-off before giving up.
 */
public class TransientPlatformException extends Exception {
    private final int httpStatus;
    private final transient List<Map<String, Object>> failures;

    /** For routes ({@code throwException}): a fault with no HTTP status or failures attached. */
    public TransientPlatformException(String message) {
        this(message, 0, null);
    }

    public TransientPlatformException(String message, int httpStatus, List<Map<String, Object>> failures) {
        super(message);
        this.httpStatus = httpStatus;
        this.failures = failures == null ? List.of() : List.copyOf(failures);
    }

    public int getHttpStatus() {
        return httpStatus;
    }

    public List<Map<String, Object>> getFailures() {
        return failures;
    }
}

package com.odooupgradecourier.transfer;

/**
 * A server the dump moves through refused the transfer for a reason that does not pass by trying again: it showed a
 * host key that is not the trusted one, it refused the request's key, or the transfer program gave up for good.
 */
public class RefusedException extends Exception {
    /** Why the server refused. */
    public enum Reason {
        /** The server showed a host key that is not the one recorded or configured. */
        HOST_KEY,
        /** The server refused the request's own key. */
        KEY,
        /** The transfer itself was refused (e.g. rsync's own final exit codes). */
        TRANSFER
    }

    private final Reason reason;

    public RefusedException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}

package com.odooupgradecourier.restore;

/** A restore that failed for a reason that does not pass by trying again: final for this attempt (a retry restores again). */
public class RestoreFailedException extends Exception {
    public RestoreFailedException(String message) {
        super(message);
    }

    public RestoreFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}

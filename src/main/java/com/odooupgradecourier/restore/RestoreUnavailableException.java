package com.odooupgradecourier.restore;

import java.io.IOException;

/**
 * The restore could not go on for a reason that may pass: the PostgreSQL server went away or could not be reached, or
 * there is not enough free space yet. The restore is taken up again later; what it had made is dropped first.
 */
public class RestoreUnavailableException extends IOException {
    public RestoreUnavailableException(String message) {
        super(message);
    }

    public RestoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}

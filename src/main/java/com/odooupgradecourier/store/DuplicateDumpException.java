package com.odooupgradecourier.store;

/** The same dump (same sha256) is already on its way through the platform: it is not sent twice. */
public class DuplicateDumpException extends Exception {
    public DuplicateDumpException(String message) {
        super(message);
    }
}

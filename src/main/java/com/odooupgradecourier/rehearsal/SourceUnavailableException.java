package com.odooupgradecourier.rehearsal;

/** The source database could not be reached (or went away) while it was dumped: a fault that may pass. */
public class SourceUnavailableException extends Exception {
    public SourceUnavailableException(String message) {
        super(message);
    }
}

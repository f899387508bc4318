package com.odooupgradecourier.dump;

/** The dropped file cannot be sent: the message says what is wrong and what to do. */
public class BadDumpException extends Exception {
    public BadDumpException(String message) {
        super(message);
    }
}

package com.odooupgradecourier.store;

import java.sql.SQLTransientConnectionException;

/** The store cannot be reached now (its server is down, its file is gone): work waits until it is back. */
public class StoreUnavailableException extends SQLTransientConnectionException {
    public StoreUnavailableException(String message, Throwable cause) {
        super(message, "08001", cause);
    }
}

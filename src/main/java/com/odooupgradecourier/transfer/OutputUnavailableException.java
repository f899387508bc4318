package com.odooupgradecourier.transfer;

import java.io.IOException;

/** The output (courier.output-uri) cannot take a delivery now, e.g. its folder is missing or is a file: the dump waits. */
public class OutputUnavailableException extends IOException {
    public OutputUnavailableException(String message) {
        super(message);
    }
}

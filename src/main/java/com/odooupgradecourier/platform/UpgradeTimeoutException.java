package com.odooupgradecourier.platform;

/** A request still running after {@code upgrade.timeout}: given up here, still followable on the platform. */
public class UpgradeTimeoutException extends Exception {
    public UpgradeTimeoutException(String message) {
        super(message);
    }
}

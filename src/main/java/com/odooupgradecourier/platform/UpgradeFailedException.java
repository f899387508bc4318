package com.odooupgradecourier.platform;

/** The platform ended the upgrade in a failed state ({@code failed}, {@code invalid}, {@code cancelled}). */
public class UpgradeFailedException extends Exception {
    public UpgradeFailedException(String message) {
        super(message);
    }
}

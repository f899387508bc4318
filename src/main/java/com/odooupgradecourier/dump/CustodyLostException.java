package com.odooupgradecourier.dump;

/**
 * The store says a dump is on its way, but the dump and its folder are no longer where the service keeps it: the store
 * is a copy older than the dump's delivery (restored from a backup), or the folder was removed. Final: nothing is done
 * again for it (no second upload, download or delivery).
 */
public class CustodyLostException extends Exception {
    public CustodyLostException(String message) {
        super(message);
    }
}

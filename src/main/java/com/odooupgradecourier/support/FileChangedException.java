package com.odooupgradecourier.support;

import java.io.IOException;

/**
 * A dump changed after it was taken from the drop folder (a copy that paused longer than the settle time and went on
 * writing): what was hashed and sent is not the file the user meant. Final: its request is not delivered.
 */
public class FileChangedException extends IOException {
    public FileChangedException(String message) {
        super(message);
    }
}

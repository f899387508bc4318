package com.odooupgradecourier.platform;

/**
 * The platform answered {@code create} with success but not in the API's shape: it may have created a
 * request anyway, so the call is not repeated blindly (each repetition could leave another request behind).
 */
public class UnexpectedAnswerException extends Exception {
    public UnexpectedAnswerException(String message) {
        super(message);
    }
}

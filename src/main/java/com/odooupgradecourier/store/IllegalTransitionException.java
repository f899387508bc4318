package com.odooupgradecourier.store;

/**
 * A transition the store refused: the dump is not in a step the transition starts from, or this node no
 * longer holds its lease (another worker took it over). The work that asked for it must stop.
 */
public class IllegalTransitionException extends RuntimeException {
    public IllegalTransitionException(String message) {
        super(message);
    }
}

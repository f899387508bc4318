package com.odooupgradecourier.failure;

/**
 * What a failure means for a dump, decided once ({@link Faults#classify}) for the error handler (retry, park or
 * bounce), the error record, the status page and the event: whether it may pass when the step is tried again, and
 * what a person can do about it.
 *
 * @param mayPass  the step is tried again (and the dump waits between tries) until the dump's lifetime ends
 * @param kind     a short name of the cause, e.g. {@code platform-unavailable}, {@code host-key}, {@code disk-full}
 * @param whatToDo one or two sentences for a person: what to check or change, and how the dump goes on
 */
public record Fault(boolean mayPass, String kind, String whatToDo) {
}

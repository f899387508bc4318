package com.odooupgradecourier.failure;

import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line of the courier's own for each retry in a step (Camel's own retry and exhaust lines are off in
 * routes/errors.yaml): the dump, the step, which retry of how many, and the cause, the request key masked.
 */
public class RetryLog implements Processor {
    private static final Logger LOG = LoggerFactory.getLogger("courier");

    @Override
    public void process(Exchange exchange) {
        Integer n = exchange.getMessage().getHeader(Exchange.REDELIVERY_COUNTER, Integer.class);
        Integer max = exchange.getMessage().getHeader(Exchange.REDELIVERY_MAX_COUNTER, Integer.class);
        LOG.warn("{}: trying step {} again (retry {} of {}) after: {}", exchange.getProperty("fileName"), exchange.getProperty("step"),
                n, max, ErrorRecords.summaryOf(exchange.getException() != null ? exchange.getException()
                        : exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class), exchange));
    }
}

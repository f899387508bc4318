package com.odooupgradecourier.service;

import java.util.Locale;
import java.util.Set;
import org.apache.camel.Exchange;
import org.apache.camel.http.base.HttpHeaderFilterStrategy;

/**
 * What the HTTP side answers with: only the headers a route sets on purpose (its content type, a redirect's location, how
 * long to wait, how to authenticate). Camel's platform-http copies a request's query parameters into the message's
 * headers, and would write them back as response headers: {@code ?Access-Control-Allow-Origin=https://evil.example} would
 * let another site read {@code /requests}, {@code ?Refresh=0;url=…} redirect, {@code ?Set-Cookie=…} set a cookie, and a
 * line break in one would break the answer. Everything else a message carries stays inside.
 */
public class ResponseHeaders extends HttpHeaderFilterStrategy {
    private static final Set<String> ANSWERED = Set.of("content-type", "location", "retry-after", "www-authenticate", "cache-control");

    @Override
    public boolean applyFilterToCamelHeaders(String headerName, Object headerValue, Exchange exchange) {
        return !ANSWERED.contains(headerName.toLowerCase(Locale.ROOT)) || super.applyFilterToCamelHeaders(headerName, headerValue, exchange);
    }
}

package com.odooupgradecourier.support;

import java.nio.file.Path;
import org.apache.camel.CamelContext;
import org.apache.camel.spi.PropertiesFunction;

/**
 * {@code {{path:courier.data-dir}}}: the value of a property, as an absolute path (relative values are
 * taken from the working directory). The file component's move options need absolute folders.
 */
public class PathFunction implements PropertiesFunction {
    private final CamelContext context;

    public PathFunction(CamelContext context) {
        this.context = context;
    }

    @Override
    public String getName() {
        return "path";
    }

    @Override
    public String apply(String remainder) {
        String value = context.getPropertiesComponent().resolveProperty(remainder.trim())
                .orElseThrow(() -> new IllegalArgumentException("no property " + remainder));
        return Path.of(value).toAbsolutePath().normalize().toString();
    }
}

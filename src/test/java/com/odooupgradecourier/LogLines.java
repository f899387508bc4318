package com.odooupgradecourier;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;

/** The log lines of this JVM while it is open (level, logger, message and the exception's class), for tests that count them. */
public final class LogLines implements AutoCloseable {
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final AbstractAppender appender;

    public LogLines() {
        appender = new AbstractAppender("test-lines-" + UUID.randomUUID(), null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent e) {
                lines.add(e.getLevel() + " " + e.getLoggerName() + " " + e.getMessage().getFormattedMessage()
                        + (e.getThrown() == null ? "" : " " + e.getThrown()));
            }
        };
        appender.start();
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        Configuration config = context.getConfiguration();
        config.getRootLogger().addAppender(appender, null, null);
        // the loggers that pass their lines on to the root's appenders get them there; the others here
        for (LoggerConfig logger : config.getLoggers().values()) {
            if (logger != config.getRootLogger() && !logger.isAdditive()) {
                logger.addAppender(appender, null, null);
            }
        }
        context.updateLoggers();
    }

    /** The WARN and ERROR lines so far that contain {@code text}. */
    public List<String> warnings(String text) {
        return lines.stream().filter(l -> (l.startsWith("WARN ") || l.startsWith("ERROR ")) && l.contains(text)).toList();
    }

    /** The lines so far (of any level) that contain {@code text}. */
    public List<String> containing(String text) {
        return lines.stream().filter(l -> l.contains(text)).toList();
    }

    @Override
    public void close() {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        Configuration config = context.getConfiguration();
        for (LoggerConfig logger : config.getLoggers().values()) {
            logger.removeAppender(appender.getName());
        }
        config.getRootLogger().removeAppender(appender.getName());
        context.updateLoggers();
        appender.stop();
    }
}

package com.odooupgradecourier.rehearsal;

import java.util.List;
import org.apache.camel.CamelContext;
import org.apache.camel.ExtendedStartupListener;
import org.apache.camel.builder.TemplatedRouteBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One route per source from the template {@code rehearsal-schedule} ({@code routes/rehearsal-schedule.yaml}): a Quartz cron
 * trigger under the cluster service, made once the routes (and so the template) are loaded.
 */
public class RehearsalSchedules implements ExtendedStartupListener {
    private static final Logger LOG = LoggerFactory.getLogger("courier");
    private final List<Source> sources;

    public RehearsalSchedules(List<Source> sources) {
        this.sources = List.copyOf(sources);
    }

    @Override
    public void onCamelContextStarted(CamelContext context, boolean alreadyStarted) {
        // the routes are made once every route runs (below)
    }

    @Override
    public void onCamelContextFullyStarted(CamelContext context, boolean alreadyStarted) throws Exception {
        for (Source s : sources) {
            TemplatedRouteBuilder.builder(context, "rehearsal-schedule").routeId("rehearsal-" + s.name())
                    .parameter("source", s.name()).parameter("cron", s.cron()).add();
            LOG.info("{}: the upgrade of {} on {}:{} to {} ({}) is rehearsed on the schedule '{}', the newest {} database(s) kept",
                    s.name(), s.database(), s.host(), s.port(), s.target(), s.aim(), s.cron(), s.keep());
        }
    }
}

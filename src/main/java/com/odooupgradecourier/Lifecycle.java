package com.odooupgradecourier;

import com.odooupgradecourier.simulator.Demo;
import com.odooupgradecourier.store.Queue;
import com.odooupgradecourier.support.Settings;
import java.util.function.Function;
import org.apache.camel.CamelContext;
import org.apache.camel.cluster.CamelClusterService;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.MainListenerSupport;
import org.apache.camel.spi.PropertiesComponent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Before the beans are made: the settings checked (a value that cannot work stops the start in one line), route files
 * of an earlier version found, the simulator started for a demo. On a graceful stop the lead is given up first, and
 * the dumps this node held are let go at the end.
 */
final class Lifecycle extends MainListenerSupport {
    private static final Logger LOG = LoggerFactory.getLogger(CourierMain.class);
    private final boolean simulator;
    private final java.util.function.Consumer<Demo> started;

    /** @param started told of the simulator started for a demo */
    Lifecycle(boolean simulator, java.util.function.Consumer<Demo> started) {
        this.simulator = simulator;
        this.started = started;
    }

    @Override
    public void beforeConfigure(BaseMainSupport m) {
        CamelContext context = m.getCamelContext();
        PropertiesComponent pc = context.getPropertiesComponent();
        Function<String, String> lookup = k -> pc.resolveProperty(k).filter(v -> !v.isBlank()).map(String::trim).orElse(null);
        try {
            SettingsCheck.check(Settings.of(lookup), context);
            SettingsCheck.routes(pc.resolveProperty("camel.main.routes-include-pattern").orElse(""));
            if (simulator) {
                Demo demo = Demo.start(lookup);
                started.accept(demo);
                demo.overrides(lookup).forEach(pc::addOverrideProperty);
                context.addService(new org.apache.camel.support.service.ServiceSupport() {
                    @Override
                    protected void doStop() throws Exception {
                        demo.close();
                    }
                }, true, true);
            }
        } catch (IllegalStateException e) {
            throw new IllegalStateException("Odoo Upgrade Courier cannot start: " + e.getMessage(), e);
        } catch (Exception e) {
            throw new IllegalStateException("Odoo Upgrade Courier cannot start: the simulator did not start: " + e.getMessage(), e);
        }
    }

    @Override
    public void beforeStop(BaseMainSupport m) {
        // a graceful stop gives up the lead first, so another node watches the drop folder and takes due dumps at
        // once, while what runs here finishes (or is let go when the stop times out)
        CamelClusterService service = m.getCamelContext().getRegistry().lookupByNameAndType("clusterService", CamelClusterService.class);
        if (service != null) {
            try {
                service.stop();
            } catch (Exception e) {
                LOG.warn("The lead could not be given up before stopping ({}): another node leads once the lock is free", e.getMessage());
            }
        }
    }

    @Override
    public void afterStop(BaseMainSupport m) {
        // a graceful stop hands its dumps over at once: another node need not wait for the leases to run out
        Queue queue = m.getCamelContext().getRegistry().lookupByNameAndType("queue", Queue.class);
        if (queue != null) {
            try {
                queue.releaseAll();
            } catch (Exception e) {
                LOG.warn("The dumps this node held could not be let go ({}): they are taken up when their leases run out", e.getMessage());
            }
        }
    }
}

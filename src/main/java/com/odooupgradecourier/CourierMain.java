package com.odooupgradecourier;

import com.odooupgradecourier.dump.DumpInspector;
import com.odooupgradecourier.platform.Platform;
import com.odooupgradecourier.simulator.SimulatorConfig;
import com.odooupgradecourier.simulator.UpgradePlatformSimulator;
import com.odooupgradecourier.store.Store;
import com.odooupgradecourier.support.Custody;
import com.odooupgradecourier.support.ErrorRecords;
import com.odooupgradecourier.support.PathFunction;
import com.odooupgradecourier.transfer.SftpTransfers;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.apache.camel.processor.idempotent.jdbc.JdbcMessageIdRepository;
import org.apache.camel.CamelContext;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.Main;
import org.apache.camel.main.MainListenerSupport;
import org.apache.camel.spi.PropertiesComponent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts Odoo Upgrade Courier: Camel Main with {@code application.properties} and {@code routes/*.yaml}
 * from the working directory, the beans the routes call, and with {@code --simulator} the built-in
 * Upgrade platform simulator in the same JVM.
 */
public final class CourierMain {
    private static final Logger LOG = LoggerFactory.getLogger(CourierMain.class);
    static final String USAGE = """
            Usage: java -jar odoo-upgrade-courier.jar [--simulator] [--help]

            Watches the drop folder (courier.drop-dir), sends each database dump through Odoo's Upgrade
            platform and delivers the upgraded archive to courier.output-uri.

              --simulator   start the built-in Upgrade platform simulator and use it instead of
                            upgrade.odoo.com (a complete demo on one machine)
              --help        print this help

            Settings are read from application.properties in the working directory; every key can be
            overridden by an environment variable (upgrade.contract -> UPGRADE_CONTRACT).
            """;

    private final Main main = new Main();
    private final boolean simulator;
    private UpgradePlatformSimulator platformSimulator;

    public CourierMain(boolean simulator, Map<String, String> overrides) {
        this.simulator = simulator;
        main.setDefaultPropertyPlaceholderLocation("file:application.properties");
        overrides.forEach(main::addOverrideProperty);
        main.addMainListener(new MainListenerSupport() {
            @Override
            public void beforeConfigure(BaseMainSupport m) {
                prepare(m.getCamelContext());
            }

            @Override
            public void afterStop(BaseMainSupport m) {
                if (platformSimulator != null) {
                    platformSimulator.close();
                }
            }
        });
    }

    public static void main(String[] args) throws Exception {
        boolean sim = false;
        List<String> unknown = new ArrayList<>();
        for (String arg : args) {
            switch (arg) {
                case "--simulator" -> sim = true;
                case "--help", "-h" -> {
                    System.out.print(USAGE);
                    return;
                }
                default -> unknown.add(arg);
            }
        }
        if (!unknown.isEmpty()) {
            System.err.println("Unknown argument(s): " + String.join(" ", unknown) + "\n\n" + USAGE);
            System.exit(2);
        }
        CourierMain courier = new CourierMain(sim, Map.of());
        try {
            courier.main.run();
        } catch (Exception e) {
            Throwable cause = e;
            while (cause.getCause() != null && !(cause instanceof IllegalStateException)) {
                cause = cause.getCause();
            }
            System.err.println(cause.getMessage());
            System.exit(1);
        }
        System.exit(courier.main.getExitCode());
    }

    /** Starts without blocking (tests); {@link #stop()} ends it. */
    public CourierMain start() throws Exception {
        main.start();
        return this;
    }

    public void stop() throws Exception {
        main.stop();
    }

    public CamelContext context() {
        return main.getCamelContext();
    }

    public UpgradePlatformSimulator simulator() {
        return platformSimulator;
    }

    private void prepare(CamelContext context) {
        PropertiesComponent pc = context.getPropertiesComponent();
        PathFunction paths = new PathFunction(context);
        pc.addPropertiesFunction(paths);
        Path dataDir = Path.of(paths.apply("courier.data-dir"));
        try {
            ownerOnly(dataDir);
            if (simulator) {
                startSimulator(pc, dataDir);
            }
            requireSettings(pc);
            DataSource store = openStore(pc, dataDir);
            context.getRegistry().bind("store", store);
            // sha256 of every dump in flight: the same dump dropped again is not sent a second time
            context.getRegistry().bind("dumpsInFlight", new JdbcMessageIdRepository(store, "dumps-in-flight"));
        } catch (Exception e) {
            throw new IllegalStateException("Odoo Upgrade Courier cannot start: " + e.getMessage(), e);
        }
        context.getRegistry().bind("platform", new Platform());
        context.getRegistry().bind("sftp", new SftpTransfers(dataDir, pc.resolveProperty("upgrade.sftp.known-hosts").orElse(""),
                pc.resolveProperty("upgrade.transfer").orElse("auto"), pc.resolveProperty("upgrade.sftp-threshold").orElse("64MB")));
        context.getRegistry().bind("resumableDownload", new com.odooupgradecourier.transfer.ResumableDownload());
        context.getRegistry().bind("dumpInspector", new DumpInspector());
        context.getRegistry().bind("custody", new Custody());
        context.getRegistry().bind("errorRecords", new ErrorRecords());
    }

    private static DataSource openStore(PropertiesComponent pc, Path dataDir) {
        String url = pc.resolveProperty("courier.store.url").orElse("");
        try {
            return Store.open(url, pc.resolveProperty("courier.store.user").orElse(""),
                    pc.resolveProperty("courier.store.password").orElse(""), dataDir);
        } catch (Exception e) {
            throw new IllegalStateException("the store is not available (courier.store.url = "
                    + (url.isBlank() ? "SQLite in " + dataDir : url) + "): " + e.getMessage()
                    + ". Check that the database server runs and the settings are right; nothing was picked up.", e);
        }
    }

    /** The data folder holds the store with the request keys, and the dumps: nobody else may read it. */
    private static void ownerOnly(Path dir) throws java.io.IOException {
        java.nio.file.Files.createDirectories(dir);
        java.nio.file.Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    }

    private void startSimulator(PropertiesComponent pc, Path dataDir) throws Exception {
        SimulatorConfig config = SimulatorConfig.from(k -> pc.resolveProperty(k).orElse(null));
        if (pc.resolveProperty("simulator.storage-dir").isEmpty()) {
            config.storageDir(dataDir.resolve("simulator"));
        }
        platformSimulator = new UpgradePlatformSimulator(config).start();
        pc.addOverrideProperty("upgrade.api-url", platformSimulator.apiUrl());
        if (pc.resolveProperty("upgrade.contract").filter(s -> !s.isBlank()).isEmpty()) {
            pc.addOverrideProperty("upgrade.contract", SimulatorConfig.DEMO_CONTRACT);
        }
        if (pc.resolveProperty("upgrade.email").filter(s -> !s.isBlank()).isEmpty()) {
            pc.addOverrideProperty("upgrade.email", "demo@example.com");
        }
        LOG.info("Demo mode: using the built-in simulator at {} instead of the real platform", platformSimulator.apiUrl());
    }

    private static void requireSettings(PropertiesComponent pc) {
        List<String> missing = new ArrayList<>();
        for (String key : List.of("upgrade.api-url", "upgrade.contract", "upgrade.email", "upgrade.target", "upgrade.aim")) {
            if (pc.resolveProperty(key).filter(s -> !s.isBlank()).isEmpty()) {
                missing.add(key + " (" + key.toUpperCase().replace('.', '_').replace('-', '_') + ")");
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException("missing settings: " + String.join(", ", missing)
                    + ". Set them in application.properties or as environment variables, or run with --simulator for a demo.");
        }
    }
}

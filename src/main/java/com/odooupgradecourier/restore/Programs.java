package com.odooupgradecourier.restore;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * PostgreSQL's client programs ({@code psql}, {@code pg_restore}) as a restore runs them: connected through their
 * environment (the password never in their arguments), with a time limit after which they are ended, and only the
 * error lines of what they wrote kept (never a statement or a row of customer data they repeat).
 */
public final class Programs {
    /** The programs a restore runs. */
    static final List<String> TOOLS = List.of("psql", "pg_restore");
    private static final int STDERR_LINES = 20;
    private static final Pattern ERROR_LINE = Pattern.compile("(?i)\\b(error|fatal|panic|could not|failed|already exists|"
            + "unsupported|restricted|denied|terminating)\\b");
    /** What a program says when the server is not there (or went away): a fault that may pass. */
    private static final Pattern SERVER_GONE = Pattern.compile("(?i)(could not connect to server|connection to server .* failed|"
            + "server closed the connection unexpectedly|terminating connection due to administrator command|"
            + "the database system is (shutting down|starting up|in recovery mode)|connection refused|no connection to the server|"
            + "could not receive data from server|could not send data to server|connection to server was lost|SSL SYSCALL error)");

    /**
     * What a server that is there says when it refuses (a wrong password, a role or database that does not exist, no
     * right to connect): not a fault that passes by itself; trying again only knocks on its door (and may lock an account).
     */
    private static final Pattern REFUSED = Pattern.compile("(?i)(password authentication failed|authentication failed|"
            + "role \".*\" does not exist|database \".*\" does not exist|no pg_hba\\.conf entry|permission denied for database)");

    /** What a program keeps of the service's environment. */
    private final Path binDir;
    private final Duration timeout;

    /**
     * @param binDir  {@code courier.restore.bin-dir}, or null for the PATH
     * @param timeout {@code courier.restore.timeout}, as a message names it
     */
    public Programs(Path binDir, Duration timeout) {
        this.binDir = binDir;
        this.timeout = timeout;
    }

    /** The program from courier.restore.bin-dir or the PATH, or null. */
    public Path program(String tool) {
        if (binDir != null) {
            Path p = binDir.resolve(tool);
            return Files.isExecutable(p) ? p : null;
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return Path.of(dir, tool);
            }
        }
        return null;
    }

    /** The programs not found where they are looked for. */
    List<String> missing() {
        return TOOLS.stream().filter(t -> program(t) == null).toList();
    }

    /** Where programs are looked for, for a message. */
    String where() {
        return binDir != null ? "in courier.restore.bin-dir (" + binDir + ")" : "on the PATH";
    }

    /**
     * What a program did: its exit code, its standard output (short ones only), its last error lines, and whether it ended
     * because the server was not there or went away (read from every last line it wrote, not only the error lines: psql
     * says "server closed the connection unexpectedly" on a line of its own).
     */
    public record Result(int exit, String stdout, Deque<String> lastErr, boolean serverGone) {
        public String stderr() {
            return String.join(" | ", lastErr).trim();
        }
    }

    /**
     * Runs {@code tool} with {@code args}, connected as {@code connection} says (PGHOST, PGPORT, PGUSER, PGPASSWORD,
     * PGDATABASE), {@code stdin} fed to it; ended when it runs longer than {@code limit}.
     *
     * @throws RestoreFailedException it ran longer than the limit (it was ended, with every process it started)
     */
    public Result run(String tool, List<String> args, Map<String, String> connection, InputStream stdin, Duration limit, String secret)
            throws IOException, InterruptedException, RestoreFailedException {
        Path program = program(tool);
        if (program == null) {
            throw new RestoreFailedException(tool + " is not " + where());
        }
        ProcessBuilder pb = connected(program, args, connection);
        pb.redirectInput(stdin == null ? ProcessBuilder.Redirect.from(new java.io.File("/dev/null")) : ProcessBuilder.Redirect.PIPE);
        Process p = pb.start();
        long deadline = System.nanoTime() + limit.toNanos();
        Deque<String> lastErr = new ArrayDeque<>();
        Thread err = daemon(() -> keepLast(p.getErrorStream(), lastErr));
        StringBuilder out = new StringBuilder();
        Thread std = daemon(() -> keepFirst(p.getInputStream(), out));
        Thread feeder = null;
        if (stdin != null) {
            // fed apart, so a program that stops reading (it stopped at an error, or hangs) never holds up the time limit
            feeder = daemon(() -> {
                try (OutputStream to = p.getOutputStream(); stdin) {
                    stdin.transferTo(to);
                } catch (IOException e) {
                    // the program stopped reading: its exit code and stderr say why
                }
            });
        }
        try {
            if (!p.waitFor(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                end(p);
                throw new RestoreFailedException(tool + " ran longer than courier.restore.timeout (" + timeout.toSeconds() + " s) and "
                        + "was stopped");
            }
        } catch (InterruptedException e) {
            // the service is stopping: the program goes with it
            end(p);
            throw e;
        }
        err.join(TimeUnit.SECONDS.toMillis(10));
        std.join(TimeUnit.SECONDS.toMillis(10));
        if (feeder != null) {
            feeder.join(TimeUnit.SECONDS.toMillis(10));
        }
        Deque<String> kept = errorLines(lastErr, secret);
        String stdout;
        synchronized (out) {
            stdout = out.toString();
        }
        boolean gone;
        synchronized (lastErr) {
            gone = lastErr.stream().anyMatch(l -> SERVER_GONE.matcher(l).find()) && lastErr.stream().noneMatch(l -> REFUSED.matcher(l).find());
        }
        return new Result(p.exitValue(), stdout, kept, gone);
    }

    /** The program with the connection given here, never the service's environment's server or database. */
    private static ProcessBuilder connected(Path program, List<String> args, Map<String, String> connection) {
        List<String> cmd = new java.util.ArrayList<>();
        cmd.add(program.toString());
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Map<String, String> env = pb.environment();
        // only what a program needs to run (where programs are, the language, time zone and temporary folder): never the
        // service's own settings and secrets (the contract, the store's, the restore's and other sources' passwords), and
        // the server and database are the ones given here, never the service's environment's
        com.odooupgradecourier.support.ProgramEnvironment.keepOnlyWhatProgramsNeed(env);
        env.putAll(connection);
        env.put("PGCONNECT_TIMEOUT", "30");
        return pb;
    }

    /** The first 4 KiB of what a program prints. */
    private static void keepFirst(InputStream in, StringBuilder out) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                synchronized (out) {
                    if (out.length() < 4096) {
                        out.append(line).append('\n');
                    }
                }
            }
        } catch (IOException ignored) {
            // the program ended
        }
    }

    /** The error lines among the last lines a program wrote to stderr, the secret masked, each at most 300 characters. */
    private static Deque<String> errorLines(Deque<String> lastErr, String secret) {
        Deque<String> kept = new ArrayDeque<>();
        synchronized (lastErr) {
            lastErr.stream().filter(l -> ERROR_LINE.matcher(l).find()).forEach(l -> {
                String line = secret == null || secret.isEmpty() ? l : l.replace(secret, "***");
                kept.add(line.length() > 300 ? line.substring(0, 300) + "…" : line);
            });
        }
        return kept;
    }

    /** Ends a program and every process it started. */
    private static void end(Process p) throws InterruptedException {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(30, TimeUnit.SECONDS);
    }

    private static Thread daemon(Runnable r) {
        Thread t = new Thread(r, "restore-program");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void keepLast(InputStream stderr, Deque<String> lastErr) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(stderr, StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                synchronized (lastErr) {
                    lastErr.addLast(line.length() > 500 ? line.substring(0, 500) + "…" : line);
                    if (lastErr.size() > STDERR_LINES) {
                        lastErr.removeFirst();
                    }
                }
            }
        } catch (IOException ignored) {
            // the program ended
        }
    }
}

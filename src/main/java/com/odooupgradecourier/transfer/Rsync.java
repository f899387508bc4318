package com.odooupgradecourier.transfer;

import com.odooupgradecourier.platform.TransientPlatformException;
import com.odooupgradecourier.transfer.Progress;
import com.odooupgradecourier.support.Secrets;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Data transfers of the current protocol ({@code upgrade.api = jsonrpc}): the real {@code rsync} over the real
 * {@code ssh}, as user {@code odoo} to the request's host, with the request's own key only ({@code IdentitiesOnly}) and
 * the host keys the platform named at {@code transfer/start} (or {@code upgrade.rsync.known-hosts}) checked strictly.
 * An interrupted transfer leaves its part ({@code --partial}) and the next one sends only what is missing. Progress
 * lines of rsync feed the progress log and the status page.
 */
public class Rsync {
    private static final Logger LOG = LoggerFactory.getLogger("courier");
    private static final Pattern PROGRESS = Pattern.compile("^\\s*([0-9][0-9,.]*)\\s+\\d+%");
    private static final Pattern DUMP_NAME = Pattern.compile("^[A-Za-z0-9_][A-Za-z0-9._-]{0,200}$");
    /** rsync's exit codes that mean the same run would fail again: syntax, protocol, file selection, unsupported action. */
    private static final List<Integer> FINAL_CODES = List.of(1, 2, 3, 4);
    private static final int TAIL = 2000;

    private final Path dataDir;
    private final Path configuredKnownHosts;
    private final Progress progress;

    /** @param knownHosts {@code upgrade.rsync.known-hosts}: a file of trusted host keys; empty: the platform's answer */
    public Rsync(Path dataDir, String knownHosts, Progress progress) {
        this.dataDir = dataDir.toAbsolutePath();
        this.configuredKnownHosts = knownHosts == null || knownHosts.isBlank() ? null : Path.of(knownHosts.trim()).toAbsolutePath();
        this.progress = progress;
    }

    /** The programs this protocol needs that are not on the PATH (empty when all are there). */
    public static List<String> missingPrograms() {
        List<String> missing = new ArrayList<>();
        for (String program : List.of("rsync", "ssh")) {
            if (!onPath(program)) {
                missing.add(program);
            }
        }
        return missing;
    }

    /**
     * Checks what {@code transfer/start} answered before anything runs with it: a port, host-key lines of plain ASCII,
     * and for a download a plain file name that is none of the other files fetched. A malformed answer is final.
     */
    public void checkAnswer(@ExchangeProperty("sshPort") String port, @ExchangeProperty("knownHosts") String knownHosts,
                            @ExchangeProperty("transferType") String type, @ExchangeProperty("dumpName") String dumpName)
            throws com.odooupgradecourier.platform.UnexpectedAnswerException {
        if (port == null || !port.trim().matches("\\d{1,5}") || Integer.parseInt(port.trim()) < 1 || Integer.parseInt(port.trim()) > 65535) {
            throw new com.odooupgradecourier.platform.UnexpectedAnswerException("transfer/start answered without a usable ssh_port: "
                    + Secrets.mask(String.valueOf(port), null));
        }
        if (knownHosts != null && !knownHosts.chars().allMatch(c -> c == '\n' || c == '\r' || c == '\t' || c >= 0x20 && c < 0x7f)) {
            throw new com.odooupgradecourier.platform.UnexpectedAnswerException("transfer/start answered host keys (known_hosts) "
                    + "that are not plain text lines");
        }
        if ("download".equals(type) && (dumpName == null || !DUMP_NAME.matcher(dumpName).matches() || dumpName.contains("..")
                || List.of("filestore", "upgrade-report.html", "upgrade.log").contains(dumpName))) {
            throw new com.odooupgradecourier.platform.UnexpectedAnswerException("transfer/start named a dump that is not a plain "
                    + "file name of its own: " + Secrets.mask(String.valueOf(dumpName), null));
        }
    }

    /** The file the dump is uploaded as: {@code origin<ext>} in the request's {@code /data}. */
    public String originName(@ExchangeProperty("dumpFormat") String format) {
        return "origin" + switch (String.valueOf(format)) {
            case "pgdump-custom" -> ".dump";
            case "sql-gzip" -> ".sql.gz";
            case "odoo-zip" -> ".zip";
            default -> ".sql";
        };
    }

    /** Sends the dump to {@code odoo@<host>:/data/<origin name>}; a part left by an earlier attempt is completed. */
    public void upload(Exchange exchange) throws Exception {
        String id = exchange.getProperty("dumpId", String.class);
        Path dump = Path.of(exchange.getProperty("dumpPath", String.class)).toAbsolutePath();
        String remote = "odoo@" + host(exchange) + ":/data/" + originName(exchange.getProperty("dumpFormat", String.class));
        long size = exchange.getProperty("dumpSize", Long.class);
        run(exchange, id, exchange.getProperty("fileName", String.class), "uploading", size,
                List.of("--partial", "--times", dump.toString(), remote));
    }

    /**
     * Fetches the upgraded dump ({@code dumpName}), {@code filestore/}, {@code upgrade-report.html} and
     * {@code upgrade.log} into the dump's download folder, then makes the archive that is delivered: a zip of the dump
     * and its filestore (written beside, renamed when complete); the report becomes the notes, and the log replaces the
     * part read while the upgrade ran.
     */
    public void download(Exchange exchange) throws Exception {
        String id = exchange.getProperty("dumpId", String.class);
        String dumpName = exchange.getProperty("dumpName", String.class);
        Path into = dataDir.resolve("downloads").resolve(id + ".rsync");
        Files.createDirectories(into);
        String remote = "odoo@" + host(exchange) + ":/data/";
        run(exchange, id, exchange.getProperty("fileName", String.class), "downloading", -1,
                List.of("--recursive", "--links", "--times", "--partial", "--ignore-missing-args", remote + dumpName,
                        remote + "filestore", remote + "upgrade-report.html", remote + "upgrade.log", into + "/"));
        Path dump = into.resolve(dumpName);
        if (!Files.exists(dump, LinkOption.NOFOLLOW_LINKS)) {
            throw new TransientPlatformException("the platform has no " + dumpName + " to download yet");
        }
        Path archive = Path.of(exchange.getProperty("archivePath", String.class));
        zip(into, List.of(dumpName, "filestore"), archive);
        Path report = into.resolve("upgrade-report.html");
        if (Files.isRegularFile(report, LinkOption.NOFOLLOW_LINKS)) {
            Files.move(report, Path.of(exchange.getProperty("notesPath", String.class)), StandardCopyOption.REPLACE_EXISTING);
        }
        Path log = into.resolve("upgrade.log");
        if (Files.isRegularFile(log, LinkOption.NOFOLLOW_LINKS)) {
            // the whole log replaces the part read while the upgrade ran; it is delivered, so the token is masked in it
            Path kept = Path.of(exchange.getProperty("logPath", String.class));
            Files.createDirectories(kept.getParent());
            Path masked = kept.resolveSibling(kept.getFileName() + ".tmp");
            String token = exchange.getProperty("requestKey", String.class);
            try (var in = Files.newBufferedReader(log, StandardCharsets.UTF_8); var out = Files.newBufferedWriter(masked, StandardCharsets.UTF_8)) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    out.write(Secrets.mask(line, token));
                    out.write('\n');
                }
            }
            Files.move(masked, kept, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Files.deleteIfExists(kept.resolveSibling(kept.getFileName() + ".read"));
        }
        com.odooupgradecourier.support.Moves.deleteTree(into);
    }

    /** The host part of the request's host (rsync and ssh take the port apart). */
    private static String host(Exchange exchange) {
        String hostUri = exchange.getProperty("hostUri", String.class);
        if (hostUri.startsWith("[")) {
            return hostUri.substring(0, hostUri.indexOf(']') + 1);
        }
        int colon = hostUri.lastIndexOf(':');
        return colon < 0 ? hostUri : hostUri.substring(0, colon);
    }

    /** The known_hosts file ssh checks: the configured one, or the platform's answer written beside the request's key. */
    private Path knownHosts(String id, String fromPlatform) throws IOException {
        if (configuredKnownHosts != null) {
            return configuredKnownHosts;
        }
        Path dir = dataDir.resolve("keys").resolve(id);
        Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path file = dir.resolve("known_hosts");
        Files.writeString(file, fromPlatform == null ? "" : fromPlatform, StandardCharsets.UTF_8);
        return file;
    }

    private void run(Exchange exchange, String id, String name, String direction, long total, List<String> args) throws Exception {
        Path key = Path.of(exchange.getProperty("privateKeyFile", String.class)).toAbsolutePath();
        Path known = knownHosts(id, exchange.getProperty("knownHosts", String.class));
        int port = exchange.getProperty("sshPort", Integer.class);
        String ssh = "ssh -p " + port + " -o IdentitiesOnly=yes -o IdentityAgent=none -o StrictHostKeyChecking=yes"
                + " -o UserKnownHostsFile=" + quoted(known) + " -o GlobalKnownHostsFile=/dev/null -o BatchMode=yes"
                + " -o PasswordAuthentication=no -o ConnectTimeout=30 -o ServerAliveInterval=15 -o ServerAliveCountMax=4"
                + " -F /dev/null -i " + quoted(key);
        List<String> command = new ArrayList<>();
        if (SETPRIV) {
            // rsync ends when the service does, even killed with -9 (no shutdown hook runs then): Linux sends it SIGTERM
            // when the thread that started it is gone. rsync ignores SIGPIPE, so a lost reader alone would not stop it.
            command.addAll(List.of("setpriv", "--pdeathsig", "TERM", "--"));
        }
        command.addAll(List.of("rsync", "--info=progress2", "--no-inc-recursive", "--timeout=300",
                "--rsh=" + ssh));
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        // the service's own secrets and settings stay out of the programs' environment
        com.odooupgradecourier.support.ProgramEnvironment.keepOnlyWhatProgramsNeed(pb.environment());
        Process p = pb.start();
        running.add(p);
        try {
            watch(exchange, id, name, direction, total, p);
        } finally {
            running.remove(p);
            if (p.isAlive()) {
                p.destroy();
            }
        }
    }

    /** Whether util-linux's setpriv is there to tie rsync's life to the service's. */
    private static final boolean SETPRIV = onPath("setpriv");

    private static boolean onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }

    /** The programs running now: ended when the service stops, so no transfer goes on without it. */
    private static final java.util.Set<Process> running = java.util.concurrent.ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> running.forEach(Process::destroy), "rsync-stop"));
    }

    private void watch(Exchange exchange, String id, String name, String direction, long total, Process p) throws Exception {
        p.getOutputStream().close();
        ByteArrayOutputStream tail = new ByteArrayOutputStream();
        try (Progress.Counter counter = progress.count(id, name, direction, total, 0);
             InputStream out = new BufferedInputStream(p.getInputStream())) {
            long seen = 0;
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int c;
            while ((c = out.read()) >= 0) {
                if (c == '\r' || c == '\n') {
                    String text = line.toString(StandardCharsets.UTF_8);
                    line.reset();
                    Matcher m = PROGRESS.matcher(text);
                    if (m.find()) {
                        long now = Long.parseLong(m.group(1).replaceAll("[,.]", ""));
                        if (now > seen) {
                            counter.accept(now - seen);
                            seen = now;
                        }
                    } else if (!text.isBlank()) {
                        keepTail(tail, text);
                    }
                } else if (line.size() < 4096) {
                    line.write(c);
                }
            }
        }
        int code;
        try {
            code = p.waitFor();
        } catch (InterruptedException e) {
            // the service is stopping: the part stays for the next attempt
            Thread.currentThread().interrupt();
            throw new IOException("the transfer was interrupted");
        }
        if (code == 0) {
            return;
        }
        String said = Secrets.mask(tail.toString(StandardCharsets.UTF_8).trim(), exchange.getProperty("requestKey", String.class));
        String what = "rsync " + (direction.equals("uploading") ? "upload" : "download") + " exited with " + code + ": " + summary(said);
        if (said.contains("Host key verification failed") || said.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
                || said.contains("No ED25519 host key is known") || said.contains("host key for") && said.contains("has changed")) {
            throw new RefusedException(RefusedException.Reason.HOST_KEY, what + ". The platform's data server did not show a host key it named (transfer/start) or "
                    + "that upgrade.rsync.known-hosts trusts: someone may be between the two, or the host keys changed.", null);
        }
        if (said.contains("Permission denied (publickey")) {
            throw new RefusedException(RefusedException.Reason.KEY, what + ". The platform's data server refused the request's key.", null);
        }
        if (FINAL_CODES.contains(code)) {
            throw new RefusedException(RefusedException.Reason.TRANSFER, what, null);
        }
        throw new java.io.IOException(what);
    }

    /** What rsync and ssh said, without ssh's banners: the lines that say what happened (or the last three). */
    static String summary(String said) {
        List<String> lines = said.lines().map(String::trim).filter(l -> !l.isEmpty() && !l.startsWith("@")).toList();
        List<String> telling = lines.stream().filter(l -> l.matches("(?i).*(host key|fingerprint|permission denied|connection|"
                + "rsync error|no such file|timed out|refused|closed|error).*")).limit(6).toList();
        List<String> shown = telling.isEmpty() ? lines.subList(Math.max(0, lines.size() - 3), lines.size()) : telling;
        return String.join(" / ", shown);
    }

    private static void keepTail(ByteArrayOutputStream tail, String text) {
        byte[] b = (text + "\n").getBytes(StandardCharsets.UTF_8);
        if (tail.size() + b.length > TAIL) {
            byte[] all = tail.toByteArray();
            tail.reset();
            int from = Math.min(all.length, Math.max(0, all.length + b.length - TAIL));
            tail.write(all, from, all.length - from);
        }
        tail.write(b, 0, b.length);
    }

    /** A path as one word of rsync's remote-shell option (its quoting: single quotes). */
    private static String quoted(Path p) throws IOException {
        String s = p.toString();
        if (s.contains("'")) {
            throw new IOException("a path with a single quote cannot be given to ssh through rsync: " + s);
        }
        return "'" + s + "'";
    }


    /** A zip of {@code names} under {@code folder} (files and folders, links never followed), streamed, then renamed. */
    static void zip(Path folder, List<String> names, Path archive) throws IOException {
        Path tmp = archive.resolveSibling(archive.getFileName() + ".zipping");
        try (OutputStream file = Files.newOutputStream(tmp); ZipOutputStream zip = new ZipOutputStream(new java.io.BufferedOutputStream(file, 1 << 16))) {
            zip.setLevel(java.util.zip.Deflater.BEST_SPEED);
            for (String name : names) {
                Path top = folder.resolve(name);
                if (!Files.exists(top, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                Files.walkFileTree(top, new SimpleFileVisitor<>() {
                    @Override
                    public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                        zip.putNextEntry(new ZipEntry(folder.relativize(dir) + "/"));
                        zip.closeEntry();
                        return FileVisitResult.CONTINUE;
                    }

                    @Override
                    public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
                        if (attrs.isRegularFile()) {
                            ZipEntry e = new ZipEntry(folder.relativize(f).toString());
                            e.setLastModifiedTime(attrs.lastModifiedTime());
                            zip.putNextEntry(e);
                            try (InputStream in = Files.newInputStream(f)) {
                                in.transferTo(zip);
                            }
                            zip.closeEntry();
                        }
                        return FileVisitResult.CONTINUE;
                    }
                });
            }
        }
        com.odooupgradecourier.support.Moves.sync(tmp);
        Files.move(tmp, archive, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}

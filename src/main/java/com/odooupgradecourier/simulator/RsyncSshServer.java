package com.odooupgradecourier.simulator;

import org.apache.sshd.common.AttributeRepository;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.ExitCallback;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * The simulator's data server for the JSON-RPC protocol: SSH (Apache MINA SSHD) for user {@code odoo}, with the key the
 * request was created with, while the request's transfer is open; the only command is {@code rsync --server …}, run
 * by the local {@code rsync} in the request's {@code /data} folder (paths outside it refused). No shell, no forwarding.
 */
public final class RsyncSshServer {
    private final java.util.concurrent.atomic.AtomicInteger rsyncRuns = new java.util.concurrent.atomic.AtomicInteger();
    private static final Logger LOG = LoggerFactory.getLogger(RsyncSshServer.class);
    private static final AttributeRepository.AttributeKey<JsonRpcSimulator.Rpc> REQUEST = new AttributeRepository.AttributeKey<>();
    private static final Pattern SHORT_OPTIONS = Pattern.compile("^-[A-Za-z0-9.]+$");
    private static final Pattern LONG_OPTION = Pattern.compile("^--[a-z][a-z-]*(=[A-Za-z0-9%.,_:-]*)?$");
    /** Options that name a file or folder of the server's: never taken from a client. */
    private static final Set<String> PATH_OPTIONS = Set.of("--log-file", "--write-batch", "--read-batch", "--only-write-batch",
            "--temp-dir", "--partial-dir", "--backup-dir", "--files-from", "--exclude-from", "--include-from", "--compare-dest",
            "--copy-dest", "--link-dest", "--config", "--daemon", "--rsync-path", "--password-file", "--early-input");

    private final JsonRpcSimulator platform;
    private final SimulatorConfig config;
    private final SshServer server = SshServer.setUpDefaultServer();
    private final AtomicLong bytesReceived = new AtomicLong();
    private volatile long dropAfterBytes = -1;
    private volatile long bytesPerSecond;

    RsyncSshServer(JsonRpcSimulator platform, SimulatorConfig config) {
        this.platform = platform;
        this.config = config;
    }

    void start() throws IOException {
        SimSftpServer.keysOnly(server, config, "rsync-host-key.pem");
        server.setPublickeyAuthenticator((user, key, session) -> {
            JsonRpcSimulator.Rpc r = "odoo".equals(user) ? platform.openTransferFor(key) : null;
            if (r != null) {
                session.setAttribute(REQUEST, r);
            }
            return r != null;
        });
        server.setCommandFactory((channel, command) -> new Rsync(channel.getSession().getAttribute(REQUEST), command));
        server.start();
    }

    void stop() {
        SimSftpServer.stopQuietly(server);
    }

    int port() {
        return server.getPort();
    }

    /** The known_hosts lines a client should trust: this server's key, or (fault injection) another one. */
    String knownHosts(boolean wrong) throws IOException {
        String host = config.bindHost;
        String name = port() == 22 ? host : "[" + host + "]:" + port();
        StringBuilder out = new StringBuilder();
        try {
            if (wrong) {
                KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
                g.initialize(256);
                KeyPair other = g.generateKeyPair();
                out.append(name).append(' ').append(PublicKeyEntry.toString(other.getPublic())).append('\n');
            } else {
                KeyPairProvider keys = server.getKeyPairProvider();
                for (KeyPair k : keys.loadKeys(null)) {
                    out.append(name).append(' ').append(PublicKeyEntry.toString(k.getPublic())).append('\n');
                }
            }
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException(e);
        }
        return out.toString();
    }

    /** Bytes received from clients (uploads) since start: a resumed upload adds only what it still sends. */
    public long bytesReceived() {
        return bytesReceived.get();
    }

    /** How many rsync transfers ran (each upload or download the server served, broken ones too). */
    public int rsyncRuns() {
        return rsyncRuns.get();
    }

    /** Fault injection: the next upload loses its connection after {@code bytes} bytes received, once. */
    public void dropConnectionOnceAfter(long bytes) {
        dropAfterBytes = bytes;
    }

    /** A slow link: at most this many bytes per second received from each client (0: as fast as it goes). */
    public void limitRate(long perSecond) {
        bytesPerSecond = perSecond;
    }

    /** Splits a command line as a POSIX shell does for words: blanks, quotes and backslashes. */
    static List<String> words(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder w = null;
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote == '\'') {
                if (c == '\'') {
                    quote = 0;
                } else {
                    w.append(c);
                }
            } else if (quote == '"') {
                if (c == '"') {
                    quote = 0;
                } else if (c == '\\' && i + 1 < line.length() && "\"\\$`".indexOf(line.charAt(i + 1)) >= 0) {
                    w.append(line.charAt(++i));
                } else {
                    w.append(c);
                }
            } else if (c == ' ' || c == '\t' || c == '\n') {
                if (w != null) {
                    out.add(w.toString());
                    w = null;
                }
            } else {
                if (w == null) {
                    w = new StringBuilder();
                }
                if (c == '\'' || c == '"') {
                    quote = c;
                } else if (c == '\\' && i + 1 < line.length()) {
                    w.append(line.charAt(++i));
                } else {
                    w.append(c);
                }
            }
        }
        if (w != null) {
            out.add(w.toString());
        }
        return out;
    }

    /**
     * The command to run for what the client asked, with {@code /data} mapped to the request's folder; null when it is
     * not an rsync server command on /data in the direction of the open transfer ({@code upload}: the server receives,
     * {@code download}: it sends). Links the client sends are kept harmless ({@code --munge-links}): none leads out.
     */
    static List<String> command(String line, Path data, String transfer) {
        List<String> words = words(line);
        if (transfer == null || words.size() < 3 || !words.get(0).equals("rsync") || !words.get(1).equals("--server")
                || words.contains("--sender") != "download".equals(transfer)) {
            return null;
        }
        List<String> out = new ArrayList<>(List.of("rsync", "--server", "--munge-links"));
        for (String w : words.subList(2, words.size())) {
            if (w.startsWith("--")) {
                if (!LONG_OPTION.matcher(w).matches() || PATH_OPTIONS.contains(w.split("=", 2)[0])) {
                    return null;
                }
                out.add(w);
            } else if (w.startsWith("-")) {
                if (!SHORT_OPTIONS.matcher(w).matches()) {
                    return null;
                }
                out.add(w);
            } else if (w.equals(".")) {
                out.add(w);
            } else if (w.equals("/data") || w.startsWith("/data/")) {
                String rest = w.substring("/data".length());
                if (List.of(rest.split("/")).contains("..")) {
                    return null;
                }
                out.add(data.toAbsolutePath() + rest);
            } else {
                return null;
            }
        }
        return out;
    }

    /** One {@code rsync --server} run for one SSH channel. */
    private final class Rsync implements Command {
        private final JsonRpcSimulator.Rpc request;
        private final String line;
        private InputStream in;
        private OutputStream out;
        private OutputStream err;
        private ExitCallback exit;
        private volatile Process process;

        Rsync(JsonRpcSimulator.Rpc request, String line) {
            this.request = request;
            this.line = line;
        }

        @Override
        public void setInputStream(InputStream in) {
            this.in = in;
        }

        @Override
        public void setOutputStream(OutputStream out) {
            this.out = out;
        }

        @Override
        public void setErrorStream(OutputStream err) {
            this.err = err;
        }

        @Override
        public void setExitCallback(ExitCallback callback) {
            this.exit = callback;
        }

        @Override
        public void start(ChannelSession channel, Environment env) throws IOException {
            List<String> command = request == null ? null : command(line, request.data(), request.transfer);
            if (command == null) {
                LOG.warn("simulator: refused the command '{}'", line);
                err.write("only rsync --server on /data, in the direction of the open transfer, is served here\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                err.flush();
                exit.onExit(1);
                return;
            }
            LOG.info("simulator: request {} runs {}", request.id, line);
            rsyncRuns.incrementAndGet();
            ProcessBuilder pb = new ProcessBuilder(command).directory(request.data().toFile());
            pb.environment().keySet().removeIf(k -> !k.equals("PATH") && !k.equals("LANG"));
            process = pb.start();
            Thread upload = pump("rsync-in", in, process.getOutputStream(), channel, true);
            Thread download = pump("rsync-out", process.getInputStream(), out, channel, false);
            Thread errors = pump("rsync-err", process.getErrorStream(), err, channel, false);
            Thread waiter = new Thread(() -> {
                try {
                    int code = process.waitFor();
                    download.join(5000);
                    errors.join(5000);
                    exit.onExit(code);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "rsync-wait");
            waiter.setDaemon(true);
            upload.start();
            download.start();
            errors.start();
            waiter.start();
        }

        private Thread pump(String name, InputStream from, OutputStream to, ChannelSession channel, boolean fromClient) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[32 * 1024];
                long start = System.nanoTime();
                long sent = 0;
                try {
                    int n;
                    while ((n = from.read(buf)) > 0) {
                        if (fromClient) {
                            long limit = dropAfterBytes;
                            long total = bytesReceived.addAndGet(n);
                            if (limit >= 0 && total >= limit) {
                                dropAfterBytes = -1;
                                LOG.info("simulator: dropping the rsync connection of request {} after {} bytes", request.id, total);
                                process.destroy();
                                channel.getSession().close(true);
                                return;
                            }
                            sent += n;
                            long rate = bytesPerSecond;
                            if (rate > 0) {
                                // the link's pace: this many bytes take this long
                                long due = start + sent * 1_000_000_000L / rate - System.nanoTime();
                                if (due > 0) {
                                    Thread.sleep(due / 1_000_000L, (int) (due % 1_000_000L));
                                }
                            }
                        }
                        to.write(buf, 0, n);
                        to.flush();
                    }
                } catch (IOException e) {
                    // the other side went away: the process ends (or is ended below)
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    if (fromClient) {
                        try {
                            to.close();
                        } catch (IOException ignored) {
                            // closing anyway
                        }
                    }
                }
            }, name);
            t.setDaemon(true);
            return t;
        }

        @Override
        public void destroy(ChannelSession channel) {
            Process p = process;
            if (p != null && p.isAlive()) {
                p.destroy();
            }
        }
    }
}

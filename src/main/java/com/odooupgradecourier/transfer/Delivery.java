package com.odooupgradecourier.transfer;

import com.odooupgradecourier.support.Moves;
import com.odooupgradecourier.support.Names;
import com.odooupgradecourier.support.Secrets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;

/**
 * What the delivery route cannot say: the names an archive and its notes are delivered under, what to do when
 * a name is taken at the output, and, for a local output folder, a delivery by rename instead of a copy.
 *
 * <p>The producer ({@code courier.output-uri}) writes under a temporary name of the dump's own and refuses an
 * existing target ({@code fileExist=Fail}); a taken name is checked here: this very file (delivered before a
 * crash) means done, anything else means the next name, {@code upgraded_<stem>-<request id><ext>}.
 */
public class Delivery {
    private final String outputUri;
    private final Path localFolder;

    public Delivery(String outputUri) {
        this.outputUri = outputUri.trim();
        this.localFolder = localFolder(this.outputUri);
    }

    /** The output as shown to people: passwords and tokens masked. */
    public String output() {
        return Secrets.maskUri(outputUri);
    }

    /** {@code upgraded_<dump name>}, shortened to fit the file system when needed. */
    public String archiveName(@ExchangeProperty("fileName") String fileName) {
        return Names.delivered(fileName);
    }

    /** The notes follow the archive's name: {@code <delivered name>.notes.html}. */
    public String notesName(@ExchangeProperty("deliveredName") String deliveredName) {
        return Names.fit(deliveredName, ".notes.html");
    }

    /**
     * The message for the producer: the file to put ({@code putFrom}) under {@code putName}. A local folder
     * gets a hard link of it as the producer's work file, which the producer renames into place (a copy only
     * when the folder is on another file system); the downloaded file stays until the delivery is recorded.
     */
    public void prepare(Exchange exchange) throws IOException {
        Path from = Path.of(exchange.getProperty("putFrom", String.class));
        var headers = exchange.getMessage().getHeaders();
        // but not Camel's redelivery count: retries must be able to run out
        headers.keySet().removeIf(k -> !k.startsWith("CamelRedeliver"));
        headers.put(Exchange.FILE_NAME, exchange.getProperty("putName", String.class));
        exchange.getMessage().setBody(from.toFile());
        if (localFolder != null) {
            Path work = workFile(from);
            Files.deleteIfExists(work);
            try {
                Files.createLink(work, from);
                headers.put(Exchange.FILE_LOCAL_WORK_PATH, work.toString());
            } catch (IOException | UnsupportedOperationException e) {
                // no hard links here: the producer copies the file
            }
        }
    }

    /**
     * {@code putName} is taken at the output. When it holds this very file (a delivery cut short by a crash
     * before it was recorded), sets {@code putDone}; otherwise sets {@code putName} to the next name.
     */
    public void nameTaken(Exchange exchange) throws IOException {
        String name = exchange.getProperty("putName", String.class);
        Path from = Path.of(exchange.getProperty("putFrom", String.class));
        if (localFolder != null && Moves.sameContent(from, localFolder.resolve(name))) {
            exchange.setProperty("putDone", true);
            return;
        }
        String tag = String.valueOf(exchange.getProperty("requestId"));
        String next = name.equals(notesName(exchange.getProperty("deliveredName", String.class)))
                ? Names.fit(exchange.getProperty("deliveredName", String.class), ".notes-" + tag + ".html")
                : Names.deliveredInstead(exchange.getProperty("fileName", String.class), tag);
        if (next.equals(name)) {
            throw new IOException("the names " + name + " and its alternative are both taken at the output");
        }
        if (localFolder != null && Moves.sameContent(from, localFolder.resolve(next))) {
            exchange.setProperty("putName", next);
            exchange.setProperty("putDone", true);
            return;
        }
        exchange.setProperty("putName", next);
    }

    /** After the producer: a local delivery is flushed to disk before it is recorded. */
    public void placed(Exchange exchange) throws IOException {
        exchange.removeProperty("putDone");
        if (localFolder != null) {
            Files.deleteIfExists(workFile(Path.of(exchange.getProperty("putFrom", String.class))));
            Moves.sync(localFolder.resolve(exchange.getProperty("putName", String.class)));
        }
    }

    private static Path workFile(Path from) {
        return from.resolveSibling(from.getFileName() + ".put");
    }

    /** The folder of a {@code file:} output, or null for any other endpoint. */
    static Path localFolder(String uri) {
        if (!uri.startsWith("file:")) {
            return null;
        }
        String path = uri.substring("file:".length());
        int q = path.indexOf('?');
        if (q >= 0) {
            path = path.substring(0, q);
        }
        if (path.startsWith("//")) {
            path = path.substring(1);
        }
        return Path.of(path).toAbsolutePath().normalize();
    }
}

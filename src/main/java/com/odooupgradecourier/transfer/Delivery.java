package com.odooupgradecourier.transfer;

import com.odooupgradecourier.store.Rows;
import com.odooupgradecourier.support.Moves;
import com.odooupgradecourier.support.Names;
import com.odooupgradecourier.support.Secrets;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.camel.Exchange;

/**
 * What the delivery route cannot say: which name an archive and its notes are delivered under, how a local
 * folder gets them, and what a name already taken at the output means.
 *
 * <p>Names: {@code upgraded_<dump name>} ({@code .zip} added when the archive is a zip), then
 * {@code upgraded_<stem>-<request id><ext>}, … The archive's name is chosen once and kept in the store before
 * anything is written; no two dumps ever choose the same one. The notes follow the archive's name.
 *
 * <p>A local folder ({@code file:} output) gets the file by a hard link, or across file systems by a synced copy put
 * in place, never over an existing file; when the name is taken by this very file (a delivery a crash cut short),
 * it is done. Any other endpoint is written by its Camel producer under a temporary name of the dump's own and
 * renamed, refusing an existing target; there a name taken on a retake is the dump's own earlier delivery when it
 * is the name the dump had chosen before.
 */
public class Delivery {
    private static final int NAMES = 5;
    private final String outputUri;
    private final Path localFolder;
    private final Rows rows;

    public Delivery(String outputUri, Rows rows) {
        this.outputUri = outputUri.trim();
        this.localFolder = localFolder(this.outputUri);
        this.rows = rows;
    }

    /** The output as shown to people: passwords and tokens masked. */
    public String output() {
        return Secrets.maskUri(outputUri);
    }

    /** Whether the output is a local folder. */
    public boolean local() {
        return localFolder != null;
    }

    /**
     * The next name to try for the file being put ({@code putKind}: archive or notes) as {@code putName}. For the
     * archive, the name is kept in the store first; a name another dump chose is skipped.
     */
    public void nextName(Exchange exchange) throws Exception {
        boolean notes = !"archive".equals(exchange.getProperty("putKind"));
        List<String> names = candidates(exchange, notes);
        int next = exchange.getProperty("putTry", 0, Integer.class);
        while (next < names.size()) {
            String name = names.get(next++);
            exchange.setProperty("putTry", next);
            if (notes || name.equals(exchange.getProperty("deliveryNameBefore"))
                    || !companionTaken(exchange, name) && rows.claimName(exchange, name)) {
                exchange.setProperty("putName", name);
                return;
            }
        }
        throw new IOException("every name tried for the delivery is taken at the output or by another dump: " + names);
    }

    /**
     * Whether, in a local output folder, the notes that would go beside an archive of this name already have a file of
     * their name there (a person's, a link): the archive then takes its next name, so that it and its notes keep a pair
     * of names (upgraded_x.zip with upgraded_x.zip.notes.html, or both with the request id).
     */
    private boolean companionTaken(Exchange exchange, String archiveName) {
        if (localFolder == null || !"archive".equals(exchange.getProperty("putKind"))) {
            return false;
        }
        Path notes = localFolder.resolve(Names.beside(archiveName, ".notes.html"));
        return Files.exists(notes, java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }

    private List<String> candidates(Exchange exchange, boolean notes) throws IOException {
        List<String> names = new ArrayList<>();
        String tag = String.valueOf(exchange.getProperty("requestId"));
        if ("log".equals(exchange.getProperty("putKind"))) {
            // beside the archive as upgraded_<dump name>.log: without the .zip the archive's name may have gained
            String archive = exchange.getProperty("deliveredName", String.class);
            String dump = exchange.getProperty("fileName", String.class);
            String base = archive.endsWith(".zip") && !dump.toLowerCase(java.util.Locale.ROOT).endsWith(".zip")
                    ? archive.substring(0, archive.length() - ".zip".length()) : archive;
            names.add(Names.beside(base, ".log"));
            for (int i = 1; i < NAMES; i++) {
                names.add(Names.beside(base, "-" + tag + (i == 1 ? "" : "-" + i) + ".log"));
            }
            return names;
        }
        if (notes) {
            String archive = exchange.getProperty("deliveredName", String.class);
            names.add(Names.beside(archive, ".notes.html"));
            for (int i = 1; i < NAMES; i++) {
                names.add(Names.beside(archive, ".notes-" + tag + (i == 1 ? "" : "-" + i) + ".html"));
            }
            return names;
        }
        String before = exchange.getProperty("deliveryNameBefore", String.class);
        if (before != null) {
            // a retake: the name chosen before comes first
            names.add(before);
        }
        String dump = exchange.getProperty("fileName", String.class);
        boolean zip = Downloads.isZip(Path.of(exchange.getProperty("putFrom", String.class)));
        names.add(Names.delivered(dump, zip));
        for (int i = 1; i < NAMES; i++) {
            names.add(Names.deliveredInstead(dump, tag + (i == 1 ? "" : "-" + i), zip));
        }
        return names.stream().distinct().toList();
    }

    /**
     * A local folder: the file as {@code putName}, never over an existing one. Sets {@code putDone} when the file is
     * there (put now, or by this dump before a crash); leaves it unset when the name is taken by another file.
     */
    public void putLocal(Exchange exchange) throws IOException {
        Path from = Path.of(exchange.getProperty("putFrom", String.class));
        Path target = localFolder.resolve(exchange.getProperty("putName", String.class));
        if (Files.exists(localFolder) && !Files.isDirectory(localFolder)) {
            // not a name taken: nothing can be delivered there until it is a folder again
            throw new OutputUnavailableException("the output (courier.output-uri) " + localFolder + " is not a folder: the archive "
                    + "is delivered once it is one again");
        }
        try {
            Moves.copyNew(from, target);
            Moves.sync(target);
            exchange.setProperty("putDone", true);
        } catch (FileAlreadyExistsException taken) {
            if (!Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                // something on the way to the folder, not a file of this name: the name is not taken
                throw new OutputUnavailableException("the output (courier.output-uri) " + localFolder + " cannot be written: "
                        + taken.getMessage() + " is in the way");
            }
            if (Moves.sameContent(from, target)) {
                exchange.setProperty("putDone", true);
            }
        }
    }

    /** The message for another endpoint's producer: the file to put ({@code putFrom}) as {@code putName}. */
    public void prepare(Exchange exchange) {
        var headers = exchange.getMessage().getHeaders();
        // but not Camel's redelivery count: retries must be able to run out
        headers.keySet().removeIf(k -> !k.startsWith("CamelRedeliver"));
        headers.put(Exchange.FILE_NAME, exchange.getProperty("putName", String.class));
        exchange.getMessage().setBody(Path.of(exchange.getProperty("putFrom", String.class)).toFile());
    }

    /**
     * Another endpoint refused {@code putName} as taken: it is this dump's own earlier delivery (cut short by a crash
     * before it was recorded) when this is a retake and the name is the one the dump had chosen before.
     */
    public void taken(Exchange exchange) {
        String before = exchange.getProperty("deliveryNameBefore", String.class);
        boolean notes = !"archive".equals(exchange.getProperty("putKind"));
        if (before != null && (notes || before.equals(exchange.getProperty("putName")))) {
            exchange.setProperty("putDone", true);
        }
    }

    /** The folder of a {@code file:} output, or null for any other endpoint. */
    public static Path localFolder(String uri) {
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

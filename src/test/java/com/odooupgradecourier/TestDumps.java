package com.odooupgradecourier;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** Small database dumps in the formats the service takes, made on the spot. */
public final class TestDumps {
    private TestDumps() {
    }

    /** The name an upgraded archive of {@code dumpName} is delivered under: the platform's archive is a zip, and says so. */
    public static String delivered(String dumpName) {
        return "upgraded_" + dumpName + (dumpName.endsWith(".zip") ? "" : ".zip");
    }

    /** A plain SQL dump as pg_dump writes it, with {@code rows} rows of data. */
    public static Path plainSql(Path file, int rows) throws IOException {
        StringBuilder sb = new StringBuilder("--\n-- PostgreSQL database dump\n--\n\nSET statement_timeout = 0;\n"
                + "SET client_encoding = 'UTF8';\n\nCREATE TABLE public.res_partner (id integer NOT NULL, name character varying);\n\n"
                + "COPY public.res_partner (id, name) FROM stdin;\n");
        for (int i = 1; i <= rows; i++) {
            sb.append(i).append("\tPartner ").append(i).append('\n');
        }
        sb.append("\\.\n\n--\n-- PostgreSQL database dump complete\n--\n");
        Files.createDirectories(file.getParent());
        return Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
    }

    /** A file with the PGDMP header of pg_dump's custom format, followed by {@code size} pseudo-random bytes. */
    public static Path customFormat(Path file, int size) throws IOException {
        byte[] body = new byte[size];
        new Random(size).nextBytes(body);
        Files.createDirectories(file.getParent());
        Files.write(file, "PGDMP".getBytes(StandardCharsets.US_ASCII));
        Files.write(file, body, java.nio.file.StandardOpenOption.APPEND);
        return file;
    }
}

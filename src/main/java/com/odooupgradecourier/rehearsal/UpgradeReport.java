package com.odooupgradecourier.rehearsal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The summary of the platform's upgrade report (the notes, HTML): how many warnings it gives (elements whose class names a
 * warning, as the report's {@code alert-warning} boxes do) and its headings ({@code h1}–{@code h3}, as text). Only the
 * first 4 MiB are read.
 *
 * @param warnings how many warnings
 * @param headings the headings, in order, at most 50
 */
public record UpgradeReport(int warnings, List<String> headings) {
    private static final int MAX_BYTES = 4 << 20;
    private static final Pattern WARNING = Pattern.compile("(?i)<[a-z][a-z0-9]*\\b[^>]*\\bclass\\s*=\\s*[\"'][^\"']*\\bwarning\\b");
    private static final Pattern HEADING = Pattern.compile("(?is)<h([1-3])\\b[^>]*>(.*?)</h\\1\\s*>");
    private static final Pattern TAG = Pattern.compile("(?s)<[^>]*>");

    public static UpgradeReport read(Path html) throws IOException {
        try (InputStream in = Files.newInputStream(html)) {
            return of(new String(in.readNBytes(MAX_BYTES), StandardCharsets.UTF_8));
        }
    }

    public static UpgradeReport of(String html) {
        int warnings = 0;
        Matcher w = WARNING.matcher(html);
        while (w.find()) {
            warnings++;
        }
        List<String> headings = new ArrayList<>();
        Matcher h = HEADING.matcher(html);
        while (h.find() && headings.size() < 50) {
            String text = unescape(TAG.matcher(h.group(2)).replaceAll(" ")).replaceAll("\\s+", " ").trim();
            if (!text.isEmpty()) {
                headings.add(text.length() > 200 ? text.substring(0, 200) + "…" : text);
            }
        }
        return new UpgradeReport(warnings, List.copyOf(headings));
    }

    private static String unescape(String s) {
        return s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&nbsp;", " ")
                .replace("&amp;", "&");
    }
}

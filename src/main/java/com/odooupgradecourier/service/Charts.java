package com.odooupgradecourier.service;

import com.odooupgradecourier.store.Reports;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;

/** Pictures drawn on the server as SVG: no script, no framework, nothing fetched from elsewhere (the page works offline). */
final class Charts {
    private static final int W = 960;
    private static final int H = 240;
    private static final int LEFT = 58;
    private static final int RIGHT = 12;
    private static final int TOP = 12;
    private static final int BOTTOM = 28;
    private static final int DAYS = 14;
    private static final int MAX_DOTS = 400;
    private static final long DAY = 86_400_000L;
    private static final long[] TICKS = {10_000L, 60_000L, 600_000L, 3_600_000L, 6 * 3_600_000L, DAY, 3 * DAY, 7 * DAY};
    private static final DateTimeFormatter LABEL = DateTimeFormatter.ofPattern("MMM d", Locale.ROOT);

    private Charts() {
    }

    /**
     * How long each delivery of the last 14 days took from the drop folder (a dot each, on a logarithmic scale of time), and
     * each day's median (a bar), with the median and 90th percentile of them all written below.
     */
    static String deliveryTimes(List<Reports.Delivery> deliveries, long now, ZoneId zone) {
        if (deliveries.isEmpty()) {
            return "<p id=\"delivery-chart\" class=\"sub\">No deliveries in the last 14 days.</p>\n";
        }
        LocalDate last = Instant.ofEpochMilli(now).atZone(zone).toLocalDate();
        LocalDate first = last.minusDays(DAYS - 1);
        long x0 = first.atStartOfDay(zone).toInstant().toEpochMilli();
        long x1 = last.plusDays(1).atStartOfDay(zone).toInstant().toEpochMilli();
        long longest = deliveries.stream().mapToLong(Reports.Delivery::tookMillis).max().orElse(DAY);
        double yMin = Math.log10(TICKS[0]);
        // up to the first line at or above the longest delivery (at least an hour)
        long scaleTop = Math.max(3_600_000L, longest);
        for (long tick : TICKS) {
            if (tick >= scaleTop) {
                scaleTop = tick;
                break;
            }
        }
        double yMax = Math.log10(scaleTop);
        StringBuilder s = new StringBuilder("<figure id=\"delivery-chart\" style=\"margin:0\"><svg viewBox=\"0 0 ").append(W).append(' ')
                .append(H).append("\" width=\"").append(W).append("\" height=\"").append(H)
                .append("\" role=\"img\" aria-label=\"How long deliveries took, the last 14 days\" xmlns=\"http://www.w3.org/2000/svg\" ")
                .append("font-size=\"11\" font-family=\"sans-serif\">");
        for (long tick : TICKS) {
            if (tick > Math.pow(10, yMax) * 1.01) {
                break;
            }
            double y = y(tick, yMin, yMax);
            s.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e3e6eb\"/>", LEFT, W - RIGHT, y, y))
                    .append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#5b6472\">%s</text>", LEFT - 6,
                            y + 4, Html.esc(Html.duration(tick))));
        }
        double dayWidth = (W - LEFT - RIGHT) / (double) DAYS;
        for (int d = 0; d < DAYS; d += 2) {
            double x = LEFT + (d + 0.5) * dayWidth;
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#5b6472\">%s</text>", x, H - 8,
                    LABEL.format(first.plusDays(d))));
        }
        TreeMap<Integer, List<Long>> perDay = new TreeMap<>();
        List<Long> all = new ArrayList<>();
        // a dot per delivery while they are few; then each day's spread (10th to 90th percentile) as a band: the page stays small
        boolean dots = deliveries.size() <= MAX_DOTS;
        for (Reports.Delivery d : deliveries) {
            if (d.atMillis() < x0 || d.atMillis() >= x1) {
                continue;
            }
            int day = (int) ((d.atMillis() - x0) / DAY);
            perDay.computeIfAbsent(Math.min(DAYS - 1, day), k -> new ArrayList<>()).add(d.tookMillis());
            all.add(d.tookMillis());
            if (dots) {
                double x = LEFT + (d.atMillis() - x0) / (double) (x1 - x0) * (W - LEFT - RIGHT);
                s.append(String.format(Locale.ROOT, "<circle class=\"delivery\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"#1f5fbf\" "
                        + "fill-opacity=\".45\"/>", x, y(Math.max(TICKS[0], d.tookMillis()), yMin, yMax)));
            }
        }
        if (!dots) {
            perDay.forEach((day, took) -> {
                double top = y(Math.max(TICKS[0], percentile(took, 90)), yMin, yMax);
                double bottom = y(Math.max(TICKS[0], percentile(took, 10)), yMin, yMax);
                s.append(String.format(Locale.ROOT, "<rect class=\"spread\" data-n=\"%d\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                        + "height=\"%.1f\" fill=\"#1f5fbf\" fill-opacity=\".25\"/>", took.size(), LEFT + day * dayWidth + dayWidth * 0.15,
                        top, dayWidth * 0.7, Math.max(1, bottom - top)));
            });
        }
        perDay.forEach((day, took) -> {
            long median = percentile(took, 50);
            double x = LEFT + day * dayWidth + dayWidth * 0.15;
            double y = y(Math.max(TICKS[0], median), yMin, yMax);
            s.append(String.format(Locale.ROOT, "<line class=\"median\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#b3261e\" "
                    + "stroke-width=\"3\"><title>%s: %d deliveries, median %s</title></line>", x, x + dayWidth * 0.7, y, y,
                    LABEL.format(first.plusDays(day)), took.size(), Html.esc(Html.duration(median))));
        });
        s.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#9aa3b0\"/>", LEFT, W - RIGHT, H - BOTTOM,
                H - BOTTOM));
        s.append("</svg><figcaption class=\"sub\">").append(dots ? "Each dot is one delivery" : "Each blue band holds the middle 80% "
                + "of a day's deliveries").append(" (time from the drop folder to delivered, on a logarithmic scale); a red bar is the day's "
                + "median. ");
        if (!all.isEmpty()) {
            s.append(all.size()).append(" deliveries: median ").append(Html.esc(Html.duration(percentile(all, 50))))
                    .append(", 90% within ").append(Html.esc(Html.duration(percentile(all, 90)))).append('.');
        }
        return s.append("</figcaption></figure>\n").toString();
    }

    private static double y(long millis, double yMin, double yMax) {
        double f = (Math.log10(millis) - yMin) / (yMax - yMin);
        return H - BOTTOM - Math.max(0, Math.min(1, f)) * (H - BOTTOM - TOP);
    }

    static long percentile(List<Long> values, int p) {
        List<Long> sorted = new ArrayList<>(values);
        sorted.sort(null);
        int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }
}

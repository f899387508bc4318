package com.odooupgradecourier.service;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * How the pages write what they show: text escaped, one time format (local time with its zone, and how long ago), one
 * duration format, long names shortened (the whole name on hover), and the page's frame (style, refresh).
 */
final class Html {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss z", Locale.ROOT);
    private static final ZoneId ZONE = ZoneId.systemDefault();

    private Html() {
    }

    static String esc(Object o) {
        if (o == null) {
            return "";
        }
        return String.valueOf(o).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;")
                .replace("'", "&#39;");
    }

    /** A time as this page writes every time: {@code <time>} with local time and zone, "3 min ago" beside it. */
    static String when(Object millis, long now) {
        if (!(millis instanceof Number n)) {
            return "";
        }
        Instant at = Instant.ofEpochMilli(n.longValue());
        long ago = now - n.longValue();
        String rel = ago >= 0 ? duration(ago) + " ago" : "in " + duration(-ago);
        return "<time datetime=\"" + at + "\">" + esc(local(n.longValue()))
                + "</time> <span class=\"ago\">" + esc(rel) + "</span>";
    }

    /** A time in the page's one format: local time with its zone. */
    static String local(long millis) {
        return TIME.format(Instant.ofEpochMilli(millis).atZone(ZONE));
    }

    /** A length of time, to the unit that matters: "40 s", "3 min", "1 h 12 min", "2 d 3 h". */
    static String duration(long millis) {
        long s = Math.max(0, millis) / 1000;
        if (s < 60) {
            return millis < 1000 && millis > 0 ? millis + " ms" : s + " s";
        }
        long m = s / 60;
        if (m < 60) {
            return m + " min" + (m < 10 && s % 60 != 0 ? " " + s % 60 + " s" : "");
        }
        long h = m / 60;
        if (h < 48) {
            return h + " h" + (m % 60 == 0 ? "" : " " + m % 60 + " min");
        }
        return h / 24 + " d" + (h % 24 == 0 ? "" : " " + h % 24 + " h");
    }

    /** A name of at most {@code max} characters (its start and end, "…" between), with the whole name on hover. */
    static String name(Object name, int max) {
        String full = name == null ? "" : String.valueOf(name);
        int[] cps = full.codePoints().toArray();
        String shown = cps.length <= max ? full
                : new String(cps, 0, max * 2 / 3) + "…" + new String(cps, cps.length - (max - max * 2 / 3 - 1), max - max * 2 / 3 - 1);
        return "<span class=\"name\" title=\"" + esc(full) + "\">" + esc(shown) + "</span>";
    }

    static String size(Object bytes) {
        return bytes instanceof Number n ? com.odooupgradecourier.transfer.Progress.human(n.longValue()) : "";
    }

    /** The start of a page: its title, the one style sheet, and the refresh that keeps the scroll position. */
    static StringBuilder start(String title, boolean refresh) {
        StringBuilder h = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>").append(esc(title)).append("</title>\n");
        if (refresh) {
            // without scripts the page reloads itself; with them only the live part is fetched again and swapped in
            h.append("<noscript><meta http-equiv=\"refresh\" content=\"10\"></noscript>\n");
        }
        return h.append("<style>").append(STYLE).append("</style></head><body>\n");
    }

    /** The end of a page: with {@code refresh}, every 10 s the part marked {@code id="live"} is read again and replaced. */
    static String end(boolean refresh) {
        return (refresh ? "<script>" + REFRESH + "</script>\n" : "") + "</body></html>\n";
    }

    private static final String REFRESH = """
            function stale(why) {
              var b = document.getElementById('stale');
              if (!b) { b = document.createElement('p'); b.id = 'stale'; b.setAttribute('role', 'alert');
                b.style.cssText = 'margin:0;padding:.5em 1.2em;background:#f9d7d4;color:#5c1410';
                document.body.insertBefore(b, document.body.children[1] || null); }
              b.textContent = 'Not up to date: ' + why + ' (' + new Date().toLocaleTimeString() + '); trying again every 10 seconds.';
            }
            setInterval(function () {
              if (document.hidden) return;
              fetch(location.href, {headers: {Accept: 'text/html'}}).then(function (r) {
                  if (!r.ok) { stale('the service answered ' + r.status); return null; }
                  return r.text();
                }).then(function (t) {
                  if (!t) return;
                  var fresh = new DOMParser().parseFromString(t, 'text/html').getElementById('live');
                  var live = document.getElementById('live');
                  if (fresh && live) live.replaceWith(fresh);
                  var b = document.getElementById('stale'); if (b) b.remove();
                }).catch(function () { stale('the service does not answer'); });
            }, 10000);""";

    private static final String STYLE = """
            *{box-sizing:border-box}
            body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;background:#f5f6f8;font-size:15px}
            header{background:#263044;color:#fff;padding:.8em 1.2em;display:flex;flex-wrap:wrap;gap:.4em 1.2em;align-items:baseline}
            header h1{font-size:1.2em;margin:0}header a{color:#cfe0ff}main{padding:1em 1.2em;max-width:1500px}
            h2{font-size:1.05em;margin:1.4em 0 .5em}a{color:#1f5fbf}
            .totals{display:grid;grid-template-columns:repeat(auto-fit,minmax(9em,1fr));gap:.6em;margin:0}
            .total{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:.5em .8em}
            .total b{display:block;font-size:1.6em}.total.bad b{color:#b3261e}.total.warn b{color:#8a5a00}
            form.find{display:flex;flex-wrap:wrap;gap:.4em;margin:.8em 0}form.find input[type=search]{flex:1 1 14em;padding:.35em}
            form.find select,form.find button{padding:.35em}
            table{border-collapse:collapse;width:100%;table-layout:fixed;background:#fff;border:1px solid #dde1e7}
            th,td{padding:.45em .6em;text-align:left;vertical-align:top;border-bottom:1px solid #eceef2;overflow-wrap:anywhere}
            th{background:#eef0f4;font-weight:600}
            col.c-dump{width:26%}col.c-step{width:11%}col.c-when{width:16%}col.c-size{width:8%}col.c-msg{width:31%}col.c-act{width:8%}
            .name{overflow-wrap:anywhere}.sub{color:#5b6472;font-size:.88em;display:block}.ago{color:#5b6472;font-size:.88em}
            .step{display:inline-block;border-radius:3px;padding:0 .4em;background:#e3e8f0;white-space:nowrap}
            .s-failed,.s-restore-failed{background:#f9d7d4}.s-delivered{background:#d5efd9}.s-waiting{background:#fbe9c0}
            tr.failed td,tr.restore-failed td{background:#fff6f5}tr.waiting td{background:#fffbef}
            .scroll{overflow-x:auto}table.rehearsals{table-layout:auto;min-width:48em}table.rehearsals th{overflow-wrap:normal;white-space:nowrap}
            nav.pages{margin:.6em 0;display:flex;gap:1em}
            svg{max-width:100%;height:auto;background:#fff;border:1px solid #dde1e7}
            .timeline{width:100%}.timeline td.bar{position:relative}
            .bar span{display:block;height:1.1em;background:#6b8fd6;border-radius:2px;min-width:2px}
            .bar span.s-failed,.bar span.s-restore-failed{background:#d9534f}.bar span.s-parked{background:#e0a526}
            dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.3em 1em;background:#fff;border:1px solid #dde1e7;padding:.8em}
            dl.facts dt{color:#5b6472}dl.facts dd{margin:0;overflow-wrap:anywhere}
            pre{background:#1d2330;color:#e8eaef;padding:.8em;overflow:auto;max-height:30em;white-space:pre-wrap;overflow-wrap:anywhere}
            @media (max-width:760px){
              table.dumps,table.dumps thead,table.dumps tbody,table.dumps tr,table.dumps td,table.dumps colgroup{display:block;width:100%}
              table.dumps thead{display:none}table.dumps tr{border-bottom:2px solid #dde1e7;padding:.3em 0}table.dumps td{border:0;padding:.2em .6em}
              table.timeline,table.timeline thead,table.timeline tbody,table.timeline tr,table.timeline td,table.timeline colgroup{display:block;width:100%}
              table.timeline thead{display:none}table.timeline tr{border-bottom:1px solid #dde1e7;padding:.3em 0}table.timeline td{border:0;padding:.1em .6em}
              td[data-label]::before{content:attr(data-label) ": ";color:#5b6472;font-size:.88em}
              dl.facts{grid-template-columns:1fr}dl.facts dd{margin-bottom:.4em}
            }
            """;
}

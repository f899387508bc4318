package com.odooupgradecourier;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real headless Chromium, driven over the DevTools protocol (a WebSocket of the JDK's HTTP client): open a page at a
 * window size (a phone's, too), evaluate JavaScript in it, and take a screenshot.
 */
final class Browser implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Process chromium;
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> waiting = new ConcurrentHashMap<>();

    Browser(Path profile) throws Exception {
        Tools.require("chromium");
        Files.createDirectories(profile);
        chromium = new ProcessBuilder("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                "--remote-debugging-port=0", "--remote-allow-origins=*", "--user-data-dir=" + profile, "about:blank")
                .redirectErrorStream(true).redirectOutput(profile.resolve("chromium.log").toFile()).start();
        Path port = profile.resolve("DevToolsActivePort");
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(port) && Files.readAllLines(port).size() >= 2);
        String http = "http://127.0.0.1:" + Files.readAllLines(port).get(0).trim();
        HttpClient client = HttpClient.newHttpClient();
        String[] page = new String[1];
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            JsonNode targets = JSON.readTree(client.send(HttpRequest.newBuilder(URI.create(http + "/json/list")).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            for (JsonNode t : targets) {
                if ("page".equals(t.path("type").asText())) {
                    page[0] = t.path("webSocketDebuggerUrl").asText();
                }
            }
            return page[0] != null;
        });
        socket = client.newWebSocketBuilder().buildAsync(URI.create(page[0]), new Listener()).get(30, TimeUnit.SECONDS);
    }

    /** Opens {@code url} in a window of this size (as a phone when {@code mobile}) and waits until it has loaded. */
    Browser open(String url, int width, int height, boolean mobile) throws Exception {
        call("Emulation.setDeviceMetricsOverride", Map.of("width", width, "height", height, "deviceScaleFactor", 1, "mobile", mobile));
        call("Page.navigate", Map.of("url", url));
        await().atMost(Duration.ofSeconds(30)).until(() -> "complete".equals(eval("document.readyState").asText())
                && url.equals(eval("location.href").asText()));
        return this;
    }

    /** The value of a JavaScript expression in the page. */
    JsonNode eval(String expression) throws Exception {
        JsonNode r = call("Runtime.evaluate", Map.of("expression", expression, "returnByValue", true));
        if (r.has("exceptionDetails")) {
            throw new IllegalStateException("in the page: " + r.path("exceptionDetails"));
        }
        return r.path("result").path("value");
    }

    /** A PNG of what the window shows. */
    Path screenshot(Path file) throws Exception {
        JsonNode r = call("Page.captureScreenshot", Map.of("format", "png"));
        Files.createDirectories(file.getParent());
        Files.write(file, Base64.getDecoder().decode(r.path("data").asText()));
        return file;
    }

    private JsonNode call(String method, Map<String, Object> params) throws Exception {
        int id = ids.incrementAndGet();
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        waiting.put(id, answer);
        socket.sendText(JSON.writeValueAsString(Map.of("id", id, "method", method, "params", params)), true).get(30, TimeUnit.SECONDS);
        JsonNode a = answer.get(60, TimeUnit.SECONDS);
        if (a.has("error")) {
            throw new IllegalStateException(method + ": " + a.path("error"));
        }
        return a.path("result");
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder text = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                try {
                    JsonNode m = JSON.readTree(text.toString());
                    CompletableFuture<JsonNode> f = m.has("id") ? waiting.remove(m.path("id").asInt()) : null;
                    if (f != null) {
                        f.complete(m);
                    }
                } catch (Exception e) {
                    waiting.values().forEach(f -> f.completeExceptionally(e));
                }
                text.setLength(0);
            }
            ws.request(1);
            return null;
        }
    }

    @Override
    public void close() throws Exception {
        try {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "").get(5, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // the browser is ended below either way
        }
        chromium.destroy();
        if (!chromium.waitFor(10, TimeUnit.SECONDS)) {
            chromium.destroyForcibly().waitFor();
        }
    }
}

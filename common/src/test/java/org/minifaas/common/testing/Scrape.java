package org.minifaas.common.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Reads an ops server over HTTP, as Prometheus does, and finds one series' value in the text format. */
public final class Scrape {
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private Scrape() {}

    /** {@code GET http://127.0.0.1:port/path}. */
    public static HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The scraped text of the ops server at {@code port}. */
    public static String metrics(int port) throws IOException, InterruptedException {
        HttpResponse<String> r = get(port, "/metrics");
        if (r.statusCode() != 200) {
            throw new AssertionError("GET /metrics answered " + r.statusCode() + ": " + r.body());
        }
        return r.body();
    }

    /** {@link #sum(String, String, String...)} of a fresh scrape of the ops server at {@code port}. */
    public static double sum(int port, String name, String... labels) throws IOException, InterruptedException {
        return sum(metrics(port), name, labels);
    }

    /**
     * The sum of the samples of metric {@code name} carrying every label given as {@code key=value} (others may be
     * there too, in any order); 0 when none is there yet.
     */
    public static double sum(String text, String name, String... labels) {
        double total = 0;
        for (String line : text.split("\n")) {
            if (line.startsWith("#") || !(line.startsWith(name + "{") || line.startsWith(name + " "))) {
                continue;
            }
            int end = line.lastIndexOf(' ');
            String series = line.substring(0, end);
            boolean matches = true;
            for (String label : labels) {
                int eq = label.indexOf('=');
                String wanted = label.substring(0, eq) + "=\"" + label.substring(eq + 1) + "\"";
                matches &= series.contains("{" + wanted + ",")
                        || series.contains("," + wanted + ",")
                        || series.contains("{" + wanted + "}")
                        || series.contains("," + wanted + "}");
            }
            if (matches) {
                total += Double.parseDouble(line.substring(end + 1).trim());
            }
        }
        return total;
    }
}

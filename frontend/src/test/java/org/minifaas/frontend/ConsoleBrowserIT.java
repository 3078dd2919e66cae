package org.minifaas.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.minifaas.frontend.V1Client.json;

import java.io.File;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.nats.ObserverStore;
import org.minifaas.common.nats.TaskLogs;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web console in a real headless Chromium (the system's chromium and chromedriver) against a real frontend on a
 * real nats-server; the worker is simulated through the common API. oauth2-proxy's identity headers are added to
 * every request of the page by the browser itself (DevTools Network.setExtraHTTPHeaders), as the proxy would.
 */
class ConsoleBrowserIT {
    static final String ADMIN = "admin@example.com";
    static final Duration WAIT = Duration.ofSeconds(10);
    /** Collects CSP violations and script errors of every page, for the tests to check. */
    static final String WATCH = "window.__problems = [];"
            + "document.addEventListener('securitypolicyviolation', e => window.__problems.push('CSP '"
            + " + e.violatedDirective + ' ' + e.blockedURI));"
            + "window.addEventListener('error', e => window.__problems.push('error ' + e.message));"
            + "window.addEventListener('unhandledrejection', e => window.__problems.push('rejection ' + e.reason));";

    static RunningFrontend frontend;
    static NatsLayer nats;
    static V1Client api;
    static ChromeDriver driver;
    static WebDriverWait wait;

    @BeforeAll
    static void start() throws Exception {
        frontend = RunningFrontend.start(s -> s, List.of(ADMIN));
        nats = frontend.nats;
        api = new V1Client(frontend.base);
        ChromeOptions options = new ChromeOptions();
        options.setBinary("/usr/bin/chromium");
        options.addArguments(
                "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900");
        // the installed driver, named explicitly: Selenium Manager (which would download one) is never asked
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File("/usr/bin/chromedriver"))
                .usingAnyFreePort()
                .build();
        driver = new ChromeDriver(service, options);
        wait = new WebDriverWait(driver, WAIT);
        driver.executeCdpCommand("Network.enable", Map.of());
        driver.executeCdpCommand("Page.addScriptToEvaluateOnNewDocument", Map.of("source", WATCH));
    }

    @AfterAll
    static void stop() throws Exception {
        if (driver != null) {
            driver.quit();
        }
        frontend.close();
    }

    @AfterEach
    void noScriptErrorsOrCspViolations() {
        Object problems = driver.executeScript("return window.__problems || [];");
        assertEquals(List.of(), problems, "on " + driver.getCurrentUrl());
        driver.executeCdpCommand("Emulation.clearDeviceMetricsOverride", Map.of());
    }

    /** As oauth2-proxy would: these headers go with every request the browser makes from now on. */
    static void signIn(String user, String email) {
        Map<String, Object> headers = new HashMap<>();
        headers.put("X-Forwarded-User", user);
        if (email != null) {
            headers.put("X-Forwarded-Email", email);
        }
        driver.executeCdpCommand("Network.setExtraHTTPHeaders", Map.of("headers", headers));
    }

    static String newUser() {
        return "console-" + UUID.randomUUID();
    }

    static void open(String path) {
        driver.get(frontend.base + path);
    }

    /** Keeps what the browser shows in target/console-screenshots, for a reviewer's eyes. */
    static void screenshot(String name) throws Exception {
        Path dir = Path.of("target", "console-screenshots");
        Files.createDirectories(dir);
        Files.write(dir.resolve(name + ".png"), driver.getScreenshotAs(org.openqa.selenium.OutputType.BYTES));
    }

    static String statusOfRow(String id) {
        return driver.findElement(By.cssSelector("tr[data-id='" + id + "'] .status"))
                .getText();
    }

    static void waitForRowStatus(String id, String status) {
        wait.until(d -> {
            List<WebElement> rows = d.findElements(By.cssSelector("tr[data-id='" + id + "'] .status"));
            return !rows.isEmpty() && rows.get(0).getText().equals(status);
        });
    }

    static List<String> rowIds() {
        return driver.findElements(By.cssSelector("#tasks tbody tr")).stream()
                .map(r -> r.getAttribute("data-id"))
                .toList();
    }

    static String submit(String url, String parameters, String ref) {
        return submit(url, parameters, ref, "");
    }

    static String submit(String url, String parameters, String ref, String runtime) {
        int before = rowIds().size();
        driver.findElement(By.id("url")).sendKeys(url);
        driver.findElement(By.id("parameters")).sendKeys(parameters);
        driver.findElement(By.id("ref")).sendKeys(ref);
        new org.openqa.selenium.support.ui.Select(driver.findElement(By.id("runtime"))).selectByValue(runtime);
        driver.findElement(By.id("submit")).click();
        wait.until(d -> rowIds().size() == before + 1);
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("submit-message"), "submitted"));
        for (String field : List.of("url", "parameters", "ref")) {
            driver.findElement(By.id(field)).clear();
        }
        String message = driver.findElement(By.id("submit-message")).getText();
        return message.replaceAll("^Task (\\S+) submitted\\.$", "$1");
    }

    @Test
    void aSubmittedTaskAppearsAndItsStatusFollowsTheWorkerWithoutReload() throws Exception {
        String user = newUser();
        signIn(user, null);
        open("/");
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("no-tasks")));
        String id = submit("https://example.com/alice/hello.git", "one\ntwo words", "v1.2");
        assertEquals("PENDING", statusOfRow(id));
        JsonNodeView record = new JsonNodeView(json(api.get(user, "/v1/tasks/" + id)));
        assertEquals("[\"one\",\"two words\"]", record.get("parameters"));
        assertEquals("\"v1.2\"", record.get("ref"));

        UUID task = UUID.fromString(id);
        nats.userTasks(user).update(task, r -> r.started("w1", 1));
        waitForRowStatus(id, "EXECUTING");
        nats.userTasks(user)
                .update(task, r -> r.finished(TaskStatus.FINISHED, "c0ffee", 10L, 20L, 30L, 0, false, null));
        waitForRowStatus(id, "FINISHED");
        assertTrue(
                driver.findElement(By.id("announcer"))
                        .getAttribute("textContent")
                        .contains("FINISHED"),
                "status changes are announced to screen readers");

        // newest first; the header's button turns the order around
        String second = submit("https://example.com/alice/other.git", "", "", "python");
        assertEquals(List.of(second, id), rowIds());
        assertEquals("null", new JsonNodeView(json(api.get(user, "/v1/tasks/" + id))).get("runtime"));
        assertEquals("\"python\"", new JsonNodeView(json(api.get(user, "/v1/tasks/" + second))).get("runtime"));
        screenshot("tasks");
        WebElement header = driver.findElement(By.id("created-header"));
        assertEquals("descending", header.getAttribute("aria-sort"));
        driver.findElement(By.id("sort-created")).click();
        assertEquals(List.of(id, second), rowIds());
        assertEquals("ascending", header.getAttribute("aria-sort"));

        // the row links to the task page
        driver.findElement(By.cssSelector("tr[data-id='" + id + "'] a")).click();
        wait.until(ExpectedConditions.urlToBe(frontend.base + "/tasks/" + id));
        wait.until(ExpectedConditions.textToBe(By.id("status"), "FINISHED"));
    }

    @Test
    void theTaskPageShowsTheRecordTheLiveLogAndTheResult() throws Exception {
        String user = newUser();
        signIn(user, null);
        UUID id = api.createTask(user);
        nats.userTasks(user).update(id, r -> r.started("worker-7", 1));
        open("/tasks/" + id);
        wait.until(ExpectedConditions.textToBe(By.id("status"), "EXECUTING"));
        wait.until(ExpectedConditions.textToBe(By.cssSelector("[data-field='workerId'] dd"), "worker-7"));
        assertEquals(
                "https://example.com/fn.git",
                driver.findElement(By.cssSelector("[data-field='url'] dd")).getText());
        assertTrue(driver.findElement(By.id("cancel")).isDisplayed());
        assertFalse(driver.findElement(By.id("download")).isDisplayed());

        TaskLogs logs = nats.logs();
        logs.status(id, TaskStatus.EXECUTING, "running");
        wait.until(ExpectedConditions.textToBe(By.id("phase"), "(running)"));
        logs.output(id, TaskLogs.Kind.STDOUT, "hello from the function").get(5, TimeUnit.SECONDS);
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("log"), "hello from the function"));
        // output is text, never markup
        logs.output(id, TaskLogs.Kind.STDERR, "<img src=x onerror=alert(1)> & more")
                .get(5, TimeUnit.SECONDS);
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("log"), "<img src=x onerror=alert(1)>"));
        assertTrue(driver.findElements(By.cssSelector("#log img")).isEmpty());
        assertEquals(1, driver.findElements(By.cssSelector("#log .stderr")).size());

        nats.results(id).write(Map.of("stdout.txt", "hello from the function\n".getBytes(StandardCharsets.UTF_8)));
        nats.userTasks(user).update(id, r -> r.finished(TaskStatus.FINISHED, "c0ffee", 10L, 20L, 30L, 0, true, null));
        logs.end(id, TaskStatus.FINISHED);
        wait.until(ExpectedConditions.textToBe(By.id("status"), "FINISHED"));
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("log-state"), "Log complete"));
        wait.until(ExpectedConditions.textToBe(By.cssSelector("[data-field='exitCode'] dd"), "0"));
        screenshot("task");
        WebElement download = driver.findElement(By.id("download"));
        assertTrue(download.isDisplayed());
        assertFalse(driver.findElement(By.id("cancel")).isDisplayed());
        assertEquals(frontend.base + "/v1/tasks/" + id + "/result", download.getAttribute("href"));
        // the link gives the zip (the browser sends the identity, as through the proxy)
        Object answer = driver.executeAsyncScript(
                "const done = arguments[arguments.length - 1];"
                        + "fetch(arguments[0]).then(r => done(r.status + ' ' + r.headers.get('Content-Type')));",
                download.getAttribute("href"));
        assertEquals("200 application/zip", answer);
    }

    @Test
    void theCancelButtonCancelsTheTask() throws Exception {
        String user = newUser();
        signIn(user, null);
        UUID id = api.createTask(user);
        open("/tasks/" + id);
        wait.until(ExpectedConditions.textToBe(By.id("status"), "PENDING"));
        WebElement cancel = wait.until(ExpectedConditions.elementToBeClickable(By.id("cancel")));
        cancel.click();
        wait.until(ExpectedConditions.textToBe(By.id("status"), "CANCELLED"));
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("log-state"), "Log complete: CANCELLED"));
        assertEquals(
                "CANCELLED",
                json(api.get(user, "/v1/tasks/" + id)).get("status").asText());
        assertTrue(driver.findElement(By.id("download")).isDisplayed());
        assertFalse(driver.findElement(By.id("cancel")).isDisplayed());
        wait.until(ExpectedConditions.textToBe(By.cssSelector("[data-field='error'] dd"), "cancelled before it ran"));
    }

    @Test
    void aPhoneWidthNeedsNoHorizontalScrolling() throws Exception {
        String user = newUser();
        signIn(user, ADMIN);
        String longUrl = "https://example.com/" + "a-very-long-repository-path/".repeat(6) + "fn.git";
        HttpResponse<byte[]> created =
                api.create(user, "{\"url\":\"" + longUrl + "\",\"parameters\":[\"" + "x".repeat(120) + "\"]}");
        assertEquals(202, created.statusCode());
        String id = json(created).get("id").asText();
        driver.executeCdpCommand(
                "Emulation.setDeviceMetricsOverride",
                Map.of("width", 375, "height", 800, "deviceScaleFactor", 2, "mobile", true));
        for (String path : List.of("/", "/tasks/" + id, "/admin")) {
            open(path);
            if (path.equals("/")) {
                waitForRowStatus(id, "PENDING");
            } else if (path.equals("/admin")) {
                wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#chart canvas")));
            } else {
                wait.until(ExpectedConditions.textToBe(By.id("status"), "PENDING"));
            }
            assertEquals(375L, driver.executeScript("return window.innerWidth;"), path);
            Object overflow = driver.executeScript(
                    "const e = document.documentElement;" + "return e.scrollWidth - e.clientWidth;");
            assertEquals(0L, overflow, path + " scrolls sideways at 375 px");
            screenshot("phone" + (path.equals("/") ? "-tasks" : path.startsWith("/tasks") ? "-task" : "-admin"));
        }
    }

    @Test
    void aNonAdminGetsTheForbiddenPage() throws Exception {
        signIn(newUser(), "someone@example.com");
        open("/admin");
        wait.until(ExpectedConditions.textToBe(By.id("error-title"), "Forbidden"));
        assertEquals("403", driver.findElement(By.id("error-status")).getText());
        assertEquals(
                FrontendApp.ADMINS_ONLY,
                driver.findElement(By.id("error-message")).getText());
        assertTrue(driver.findElements(By.id("chart")).isEmpty());
        screenshot("forbidden");
    }

    @Test
    void anAdminSeesStatusTheChartTheEventLogAndCanInjectAFile() throws Exception {
        ObserverStore observer = nats.observer();
        observer.put(ObserverStore.STATUS, "congested");
        observer.put(ObserverStore.WORKERS, "3");
        observer.log(System.currentTimeMillis(), "getting busy: backlog 14 > limit 10");
        signIn("root", ADMIN);
        open("/admin");
        wait.until(ExpectedConditions.textToBe(By.id("sys-status"), "congested"));
        assertEquals("3", driver.findElement(By.id("sys-decided")).getText());
        assertEquals("0", driver.findElement(By.id("sys-live")).getText());
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("events"), "getting busy: backlog 14"));
        WebElement canvas = wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#chart canvas")));
        assertTrue(canvas.getSize().getWidth() > 200, "the chart is drawn: " + canvas.getSize());
        // the frontend sampled once at its start: the history holds it
        assertFalse(
                driver.findElements(By.cssSelector("#history-table tbody tr")).isEmpty());

        screenshot("admin");
        Path file = Files.createTempFile("inject-", ".txt");
        try {
            Files.writeString(file, "settings");
            driver.findElement(By.id("inject-file")).sendKeys(file.toString());
            driver.findElement(By.id("inject")).click();
            wait.until(ExpectedConditions.textToBe(
                    By.id("inject-message"), "Queued for injection as " + file.getFileName() + "."));
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void everyInputHasALabelAndEveryButtonSaysWhatItDoes() throws Exception {
        String user = newUser();
        signIn(user, ADMIN);
        UUID id = api.createTask(user);
        String check = "const problems = [];"
                + "for (const e of document.querySelectorAll('input, textarea, select')) {"
                + "  const label = e.id && document.querySelector('label[for=\"' + e.id + '\"]');"
                + "  const named = (label && label.textContent.trim()) || e.getAttribute('aria-label')"
                + "    || e.getAttribute('aria-labelledby');"
                + "  if (!named) problems.push('unlabelled ' + e.outerHTML);"
                + "}"
                + "for (const b of document.querySelectorAll('button, a')) {"
                + "  if (!b.textContent.trim() && !b.getAttribute('aria-label')) problems.push('no text ' + b.outerHTML);"
                + "}"
                + "for (const t of document.querySelectorAll('table[id]')) {"
                + "  if (!t.querySelector('thead th[scope=col]')) problems.push('no headers ' + t.id);"
                + "}"
                + "if (!document.documentElement.lang) problems.push('no lang');"
                + "if (!document.querySelector('[aria-live], [role=status], [role=alert]')) problems.push('no live region');"
                + "return problems;";
        for (String path : List.of("/", "/tasks/" + id, "/admin")) {
            open(path);
            wait.until(ExpectedConditions.presenceOfElementLocated(By.tagName("main")));
            assertEquals(List.of(), driver.executeScript(check), path);
            assertTrue(driver.findElements(By.cssSelector("input, textarea")).size() >= (path.equals("/") ? 3 : 0));
        }
    }

    @Test
    void thePagesCarryACspAndTheConsoleNeedsNoCdn() throws Exception {
        for (String path : List.of("/", "/tasks/" + UUID.randomUUID())) {
            HttpResponse<byte[]> page = api.get(null, path);
            assertEquals(200, page.statusCode(), path);
            assertTrue(page.headers()
                    .firstValue("Content-Security-Policy")
                    .orElse("")
                    .startsWith("default-src 'self'"));
            String html = V1Client.text(page);
            assertFalse(html.matches("(?s).*(src|href)=\"(https?:)?//.*"), "no CDN: " + path);
        }
        HttpResponse<byte[]> admin = api.send(api.request("root", "/admin").header("X-Forwarded-Email", ADMIN));
        assertEquals(200, admin.statusCode());
        String html = V1Client.text(admin);
        assertTrue(html.contains("/webjars/uplot/"), html);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?:src|href)=\"(/webjars/uplot/[^\"]+)\"")
                .matcher(html);
        int assets = 0;
        while (m.find()) {
            assertEquals(200, api.get(null, m.group(1)).statusCode(), m.group(1)); // no identity needed
            assets++;
        }
        assertEquals(2, assets);
        // JSON for API clients, as before; HTML only for a browser on a page
        HttpResponse<byte[]> forbidden = api.get("someone", "/admin");
        assertEquals(403, forbidden.statusCode());
        assertTrue(forbidden.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        HttpResponse<byte[]> apiForbidden =
                api.send(api.request("someone", "/getSystemStatus").header("Accept", "text/html"));
        assertTrue(apiForbidden.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
    }

    /** A record's field as compact JSON, for short assertions. */
    record JsonNodeView(com.fasterxml.jackson.databind.JsonNode node) {
        String get(String field) {
            return node.get(field).toString();
        }
    }
}

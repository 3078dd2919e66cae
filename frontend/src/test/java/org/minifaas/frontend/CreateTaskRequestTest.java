package org.minifaas.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.minifaas.common.net.AddressPolicy;

class CreateTaskRequestTest {
    static final Set<String> SCHEMES = Set.of("https", "http");

    static CreateTaskRequest parse(String json) {
        return CreateTaskRequest.parse(json.getBytes(StandardCharsets.UTF_8), SCHEMES, new AddressPolicy(false));
    }

    @Test
    void acceptsUrlAndStringParameters() {
        CreateTaskRequest r =
                parse("{\"url\":\" https://example.com/a.git \",\"parameters\":[\"a\",\"\",\"; rm -rf /\"]}");
        assertEquals("https://example.com/a.git", r.url());
        assertEquals(List.of("a", "", "; rm -rf /"), r.parameters());
    }

    @Test
    void parametersMayBeOmitted() {
        assertEquals(List.of(), parse("{\"url\":\"http://example.com/a.git\"}").parameters());
        assertEquals(
                List.of(),
                parse("{\"url\":\"http://example.com/a.git\",\"parameters\":null}")
                        .parameters());
    }

    @Test
    void refusesWhatCannotRun() {
        for (String bad : List.of(
                "",
                "null",
                "\"x\"",
                "{\"url\":null}",
                "{\"url\":\"  \"}",
                "{\"url\":\"HTTPS:/nohost\"}",
                "{\"url\":\"git://example.com/a.git\"}",
                "{\"url\":\"https://example.com/a.git\",\"parameters\":[null]}",
                "{\"url\":\"https://example.com/a.git\",\"parameters\":[[\"a\"]]}",
                "{\"url\":\"https://example.com/a.git\",\"parameters\":[\"a\\u0000b\"]}",
                "{\"url\":\"https://example.com/" + "a".repeat(3000) + "\"}")) {
            assertThrows(DomainException.InvalidRequest.class, () -> parse(bad), bad);
        }
    }

    @Test
    void schemesAreCaseInsensitiveAndStoredInLowercase() {
        // git reads "HTTPS://host/repo" as no URL at all: the worker would refuse it
        assertEquals(
                "https://example.com/A.git",
                parse("{\"url\":\"HTTPS://example.com/A.git\"}").url());
    }

    @Test
    void refusesWhatTheWorkerWouldRefuseOrStoreOtherwise() {
        for (String bad : List.of(
                // a query or fragment: git and the address check could read the URL two ways; the worker refuses it
                "{\"url\":\"https://example.com/a.git?x=1\"}",
                "{\"url\":\"https://example.com/a.git#frag\"}",
                // ports no connection can use
                "{\"url\":\"https://example.com:99999/a.git\"}",
                "{\"url\":\"https://example.com:0/a.git\"}",
                // JSON followed by more than whitespace
                "{\"url\":\"https://example.com/a.git\"} garbage",
                "{\"url\":\"https://example.com/a.git\"}x",
                "{\"url\":\"https://example.com/a.git\"}{}",
                // half a character: UTF-8 cannot store it, it would become '?'
                "{\"url\":\"https://example.com/a.git\",\"parameters\":[\"\\ud800\"]}",
                "{\"url\":\"https://example.com/a.git\",\"parameters\":[\"a\\udc00b\"]}",
                "{\"url\":\"https://example.com/a.git\\ud800\"}",
                "{\"url\":\"https://example.com/a.git\",\"other\\udbff\":1}",
                // an IPv6 zone id: git reaches the address before the '%', Java does not resolve it
                "{\"url\":\"http://[::ffff:127.0.0.1%25lo]:8080/a.git\"}")) {
            assertThrows(DomainException.InvalidRequest.class, () -> parse(bad), bad);
        }
        for (String bad : List.of(
                "{\"url\":\"https://example.com/a.git\",\"ref\":\"main\\ud800\"}",
                "{\"url\":\"https://example.com/a.git\",\"callbackUrl\":\"http://[::1%25lo]/hook\"}",
                "{\"url\":\"https://example.com/a.git\",\"callbackUrl\":\"https://example.com:0/hook\"}")) {
            assertThrows(DomainException.InvalidRequest.class, () -> parseV1(bad), bad);
        }
        // a whole character outside the BMP (a surrogate pair) is fine, and so is trailing whitespace
        assertEquals(
                List.of("\uD83D\uDE00"),
                parse("{\"url\":\"https://example.com/a.git\",\"parameters\":[\"\\ud83d\\ude00\"]} \n")
                        .parameters());
    }

    static CreateTaskRequest parseV1(String json) {
        return CreateTaskRequest.parseV1(json.getBytes(StandardCharsets.UTF_8), SCHEMES, new AddressPolicy(false), 20);
    }

    @Test
    void v1AcceptsRefTimeoutAndCallback() {
        CreateTaskRequest r = parseV1("{\"url\":\"https://example.com/a.git\",\"ref\":\"feature/x-1.2_b@c\","
                + "\"timeoutSeconds\":20,\"callbackUrl\":\" https://example.com/hook?x=1 \"}");
        assertEquals("feature/x-1.2_b@c", r.ref());
        assertEquals(20, r.timeoutSeconds());
        assertEquals("https://example.com/hook?x=1", r.callbackUrl());
        CreateTaskRequest plain = parseV1("{\"url\":\"https://example.com/a.git\",\"ref\":null}");
        assertEquals(null, plain.ref());
        assertEquals(0, plain.timeoutSeconds());
        assertEquals(null, plain.callbackUrl());
        assertEquals(
                "0123456789abcdef0123456789abcdef01234567",
                parseV1("{\"url\":\"https://example.com/a.git\",\"ref\":\"0123456789abcdef0123456789abcdef01234567\"}")
                        .ref());
    }

    @Test
    void v1RefusesBadRefsTimeoutsAndCallbacks() {
        for (String bad : List.of(
                "\"ref\":\"-x\"",
                "\"ref\":\"a..b\"",
                "\"ref\":\"a b\"",
                "\"ref\":\"a\\u007fb\"",
                "\"ref\":\"a\\u00a0b\"",
                "\"ref\":\"a~1\"",
                "\"ref\":\"a^\"",
                "\"ref\":\"a:b\"",
                "\"ref\":\"a?\"",
                "\"ref\":\"a*\"",
                "\"ref\":\"a[b\"",
                "\"ref\":\"a\\\\b\"",
                "\"ref\":\"\"",
                "\"ref\":[\"main\"]",
                "\"ref\":\"" + "r".repeat(256) + "\"",
                "\"ref\":\"main@{1}\"",
                "\"ref\":\"@{-1}\"",
                "\"ref\":\"main@{upstream}\"",
                "\"ref\":\"a@{\"",
                "\"timeoutSeconds\":21",
                "\"timeoutSeconds\":0",
                "\"timeoutSeconds\":2.0",
                "\"timeoutSeconds\":true",
                "\"callbackUrl\":\"http://localhost/x\"",
                "\"callbackUrl\":\"http://10.1.2.3/x\"",
                "\"callbackUrl\":\"mailto:a@b.c\"",
                "\"callbackUrl\":\"https://a:b@example.com/\"",
                "\"callbackUrl\":{}")) {
            assertThrows(
                    DomainException.InvalidRequest.class,
                    () -> parseV1("{\"url\":\"https://example.com/a.git\"," + bad + "}"),
                    bad);
        }
    }

    @Test
    void v1TakesAKnownRuntimeOrNone() {
        assertEquals(null, parseV1("{\"url\":\"https://example.com/a.git\"}").runtime());
        assertEquals(
                null,
                parseV1("{\"url\":\"https://example.com/a.git\",\"runtime\":null}")
                        .runtime());
        for (String runtime : List.of("go", "node", "python")) {
            assertEquals(
                    runtime,
                    parseV1("{\"url\":\"https://example.com/a.git\",\"runtime\":\"" + runtime + "\"}")
                            .runtime());
        }
        for (String bad : List.of("\"Go\"", "\"java\"", "\"\"", "1", "[\"go\"]", "\"go \"")) {
            DomainException.InvalidRequest e = assertThrows(
                    DomainException.InvalidRequest.class,
                    () -> parseV1("{\"url\":\"https://example.com/a.git\",\"runtime\":" + bad + "}"),
                    bad);
            assertEquals(
                    "Field 'runtime' must be one of go, node, python (or left out: the worker recognises it from the "
                            + "repository).",
                    e.getMessage());
        }
    }

    /** The worker's GitSource.refProblem, case by case: what it refuses is a 400 here, what it takes is accepted. */
    @Test
    void refsAreCheckedAsTheWorkerChecksThem() {
        for (String ok : List.of(
                "main",
                "v1.2",
                "feature/x-1.2_b@c",
                "@",
                "a@b",
                "a{1}",
                "a}@",
                "x-",
                "a.b",
                "r".repeat(255),
                "0123456789abcdef0123456789abcdef01234567")) {
            assertEquals(
                    ok,
                    parseV1("{\"url\":\"https://example.com/a.git\",\"ref\":\"" + ok + "\"}")
                            .ref(),
                    ok);
        }
        for (String bad : List.of(
                "main@{1}",
                "@{-1}",
                "HEAD@{yesterday}",
                "main@{upstream}",
                "@{",
                "-b",
                "a..b",
                "a\\tb",
                "a\\u2028b",
                "a~",
                "a^{}",
                "a:b",
                "a?",
                "a*",
                "a[",
                "a\\\\b",
                "r".repeat(256))) {
            DomainException.InvalidRequest e = assertThrows(
                    DomainException.InvalidRequest.class,
                    () -> parseV1("{\"url\":\"https://example.com/a.git\",\"ref\":\"" + bad + "\"}"),
                    bad);
            assertTrue(e.getMessage().startsWith("Field 'ref'"), e.getMessage());
        }
    }

    @Test
    void theOriginalApiIgnoresTheV1Fields() {
        CreateTaskRequest r = parse("{\"url\":\"https://example.com/a.git\",\"ref\":\"-bad\",\"timeoutSeconds\":999}");
        assertEquals(null, r.ref());
        assertEquals(0, r.timeoutSeconds());
    }
}

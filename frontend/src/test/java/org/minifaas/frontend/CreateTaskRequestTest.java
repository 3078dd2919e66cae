package org.minifaas.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
        CreateTaskRequest r = parse("{\"url\":\" https://example.com/a.git \",\"parameters\":[\"a\",\"\",\"; rm -rf /\"]}");
        assertEquals("https://example.com/a.git", r.url());
        assertEquals(List.of("a", "", "; rm -rf /"), r.parameters());
    }

    @Test
    void parametersMayBeOmitted() {
        assertEquals(List.of(), parse("{\"url\":\"http://example.com/a.git\"}").parameters());
        assertEquals(List.of(), parse("{\"url\":\"http://example.com/a.git\",\"parameters\":null}").parameters());
    }

    @Test
    void refusesWhatCannotRun() {
        for (String bad : List.of("", "null", "\"x\"", "{\"url\":null}", "{\"url\":\"  \"}",
                "{\"url\":\"HTTPS:/nohost\"}", "{\"url\":\"git://example.com/a.git\"}",
                "{\"url\":\"https://example.com/a.git\",\"parameters\":[null]}",
                "{\"url\":\"https://example.com/a.git\",\"parameters\":[[\"a\"]]}",
                "{\"url\":\"https://example.com/a.git\",\"parameters\":[\"a\\u0000b\"]}",
                "{\"url\":\"https://example.com/" + "a".repeat(3000) + "\"}")) {
            assertThrows(ApiException.InvalidRequest.class, () -> parse(bad), bad);
        }
    }

    @Test
    void schemesAreCaseInsensitive() {
        assertEquals("HTTPS://example.com/a.git", parse("{\"url\":\"HTTPS://example.com/a.git\"}").url());
    }
}

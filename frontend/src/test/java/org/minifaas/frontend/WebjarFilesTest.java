package org.minifaas.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class WebjarFilesTest {
    @Test
    void aWebjarFileNamesItsResource() {
        assertEquals(
                "META-INF/resources/webjars/swagger-ui/5.34.1/swagger-ui.css",
                WebjarFiles.resourceName("swagger-ui/5.34.1/swagger-ui.css"));
        assertNotNull(WebjarFiles.resourceName("uplot/1.6.30/dist/uPlot.iife.min.js"));
    }

    @Test
    void nothingOutsideTheWebjarsNorOfAnotherKind() {
        for (String hostile : new String[] {
            "../../../openapi.json", // the class path's root
            "swagger-ui/../../../../logback.xml",
            "swagger-ui/./x.js",
            "..",
            "swagger-ui/..",
            "/etc/passwd.js",
            "swagger-ui//x.js",
            "swagger-ui\\..\\x.js",
            "swagger-ui/%2e%2e/x.js",
            "swagger-ui/x.js\u0000.css",
            "org/minifaas/frontend/FrontendApp.class", // a type it does not serve
            "swagger-ui/5.34.1/", // a folder
            ""
        }) {
            assertNull(WebjarFiles.resourceName(hostile), hostile);
        }
    }
}

package org.minifaas.frontend;

import io.javalin.http.Context;
import java.util.UUID;

/** A task's results as a zip download, the same on both APIs. */
final class ResultDownload {
    private ResultDownload() {}

    static void zip(Context ctx, UUID taskId, byte[] zip) {
        ctx.contentType("application/zip")
                .header("Content-Disposition", "attachment; filename=\"" + taskId + "_results.zip\"")
                .result(zip);
    }
}

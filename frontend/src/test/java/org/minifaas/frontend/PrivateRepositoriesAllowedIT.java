package org.minifaas.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.Json;
import org.minifaas.common.model.Task;
import org.minifaas.common.nats.TaskQueue;
import org.minifaas.common.testing.NatsInspect;

/** With REPO_ALLOW_PRIVATE_ADDRESSES=true (a local stack serving Git on loopback), private URLs are accepted. */
class PrivateRepositoriesAllowedIT {
    static RunningFrontend frontend;

    @BeforeAll
    static void start() throws Exception {
        frontend = RunningFrontend.start(s -> s, List.of(), true);
    }

    @AfterAll
    static void stop() throws Exception {
        frontend.close();
    }

    @Test
    void everyPrivateFormIsCreatedAndQueued() throws Exception {
        var jsm = frontend.nats.connection().jetStreamManagement();
        for (String url : FrontendIT.PRIVATE_URLS) {
            HttpResponse<String> r = RunningFrontend.HTTP.send(
                    new V1Client(frontend.base)
                            .legacyCreateRequest("local-dev", "{\"url\":\"" + url + "\"}")
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(201, r.statusCode(), url + " -> " + r.body());
            long last = NatsInspect.taskStream(frontend.nats).getStreamState().getLastSequence();
            assertEquals(
                    url,
                    Json.fromBytes(jsm.getMessage(TaskQueue.STREAM, last).getData(), Task.class)
                            .repoUrl());
        }
    }
}

package org.minifaas.common.nats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.nats.client.JetStreamApiException;
import io.nats.client.api.ApiResponse;
import io.nats.client.impl.NatsMessage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RetriesTest {
    /** The server's JSON error answer, as jnats turns it into an exception. */
    private static JetStreamApiException answer(int apiCode, String description) {
        String json = "{\"type\":\"io.nats.jetstream.api.v1.stream_create_response\",\"error\":{\"code\":503,"
                + "\"err_code\":" + apiCode + ",\"description\":\"" + description + "\"}}";
        NatsMessage m = NatsMessage.builder()
                .subject("_INBOX.x")
                .data(json.getBytes(StandardCharsets.UTF_8))
                .build();
        return new JetStreamApiException(new ApiResponse<Void>(m) {});
    }

    @Test
    void aClusterThatCannotPlaceTheStreamYetIsAskedAgain() throws Exception {
        Map<Integer, String> answers =
                Map.of(10005, "no suitable peers for placement", 10008, "JetStream system temporarily unavailable");
        for (Map.Entry<Integer, String> answer : answers.entrySet()) {
            int code = answer.getKey();
            AtomicInteger calls = new AtomicInteger();
            String done = Retries.<String, RuntimeException>repeatable("create a bucket", Duration.ofSeconds(5), () -> {
                if (calls.incrementAndGet() < 3) {
                    throw answer(code, answer.getValue());
                }
                return "created";
            });
            assertEquals("created", done);
            assertEquals(3, calls.get(), "code " + code);
        }
    }

    @Test
    void anyOtherAnswerIsFinal() {
        AtomicInteger calls = new AtomicInteger();
        JetStreamApiException e = assertThrows(
                JetStreamApiException.class,
                () -> Retries.<String, RuntimeException>repeatable("create a bucket", Duration.ofSeconds(5), () -> {
                    calls.incrementAndGet();
                    throw answer(10071, "wrong last sequence");
                }));
        assertEquals(10071, e.getApiErrorCode());
        assertEquals(1, calls.get());
    }

    @Test
    void aClusterThatStaysUnreadyFailsOnceTheBudgetIsSpent() {
        AtomicInteger calls = new AtomicInteger();
        long start = System.nanoTime();
        JetStreamApiException e = assertThrows(
                JetStreamApiException.class,
                () -> Retries.<String, RuntimeException>repeatable("create a bucket", Duration.ofMillis(300), () -> {
                    calls.incrementAndGet();
                    throw answer(10005, "no suitable peers for placement");
                }));
        assertEquals(10005, e.getApiErrorCode());
        assertEquals(
                true,
                calls.get() > 1 && Duration.ofNanos(System.nanoTime() - start).toMillis() < 2_000);
    }
}

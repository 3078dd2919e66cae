package org.minifaas.common.nats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class BucketNamesTest {

    @Test
    void anyUserIdMapsToAValidBucketName() {
        for (String user : List.of(
                "alice", "alice@example.com", "x".repeat(5000), "ñandú ☃", "", "observer", "../../etc", "a.b*c>")) {
            String name = BucketNames.forUser(user);
            assertTrue(name.matches("[A-Za-z0-9_-]{1,64}"), name);
            assertTrue(name.startsWith(BucketNames.USER_PREFIX));
        }
    }

    @Test
    void mappingIsStableAndDistinct() {
        assertEquals(BucketNames.forUser("bob"), BucketNames.forUser("bob"));
        assertNotEquals(BucketNames.forUser("bob"), BucketNames.forUser("Bob"));
    }

    @Test
    void userBucketsNeverCollideWithSystemBuckets() {
        for (String system : List.of(
                BucketNames.OBSERVER_BUCKET,
                BucketNames.WORKERS_BUCKET,
                BucketNames.INJECTOR_BUCKET,
                BucketNames.RESULTS_BUCKET,
                BucketNames.forResults(UUID.randomUUID()))) {
            assertNotEquals(system, BucketNames.forUser(system));
            assertTrue(!system.startsWith(BucketNames.USER_PREFIX), system);
        }
    }
}

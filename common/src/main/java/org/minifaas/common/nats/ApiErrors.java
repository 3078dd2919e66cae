package org.minifaas.common.nats;

import io.nats.client.JetStreamApiException;

/** JetStream API error codes the project reacts to. */
final class ApiErrors {
    static final int STREAM_NOT_FOUND = 10059;
    /** A direct get of a message that is not there (expired, deleted). */
    static final int NO_MESSAGE_FOUND = 10037;

    static final int STREAM_NAME_IN_USE = 10058;
    /**
     * A replicated stream cannot be placed: fewer servers up than replicas (a cluster still forming, or one that
     * lost servers), or placement tags no server has.
     */
    static final int NO_SUITABLE_PEERS = 10005;
    /** JetStream has no meta leader yet (an election). */
    static final int TEMPORARILY_UNAVAILABLE = 10008;
    /** A compare-and-set write lost: the key was written since it was read (or exists, for a create). */
    static final int WRONG_LAST_SEQUENCE = 10071;
    /** A stream limit (messages, bytes) refused a new message under discard policy New. */
    static final int MAXIMUM_EXCEEDED = 10077;
    /** Also returned for byte limits by some server versions. */
    static final int MAXIMUM_BYTES_EXCEEDED = 10047;

    private ApiErrors() {}

    static boolean is(JetStreamApiException e, int code) {
        return e.getApiErrorCode() == code;
    }

    static boolean isLimit(JetStreamApiException e) {
        return is(e, MAXIMUM_EXCEEDED)
                || is(e, MAXIMUM_BYTES_EXCEEDED)
                || e.getErrorCode() == 503
                        && e.getMessage() != null
                        && e.getMessage().contains("maximum");
    }
}

package org.minifaas.worker.sandbox;

/** The network a sandboxed command gets. */
public enum Network {
    /** A network namespace of its own with loopback only. */
    NONE,
    /** Its own network namespace routed to public addresses only, through user-mode networking ({@link Egress}). */
    EGRESS,
    /** The host's network: module downloads only, where the go command talks to GOPROXY alone. */
    HOST
}

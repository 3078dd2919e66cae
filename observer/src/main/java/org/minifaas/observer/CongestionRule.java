package org.minifaas.observer;

import java.util.ArrayList;
import java.util.List;

/**
 * The original's scaling rule, as a pure state machine: a backlog above the limit on three
 * consecutive checks means congestion and one more worker (and one more for every further three
 * checks); a backlog below a third of the limit gives one worker back, down to the minimum.
 */
final class CongestionRule {
    public static final String OK = "OK";
    public static final String CONGESTED = "congested";
    static final int CHECKS = 3;

    private final int limit;
    private final int minWorkers;
    private final int maxWorkers;
    private int workers;
    private String status;
    private int highChecks;

    public CongestionRule(int limit, int minWorkers, int maxWorkers, int workers, String status) {
        this.limit = limit;
        this.minWorkers = minWorkers;
        this.maxWorkers = maxWorkers;
        this.workers = Math.max(minWorkers, Math.min(maxWorkers, workers));
        this.status = CONGESTED.equals(status) ? CONGESTED : OK;
    }

    /** Applies one check; returns the events worth a log line (none when nothing changed). */
    public List<String> check(long backlog) {
        List<String> events = new ArrayList<>();
        if (backlog > limit) {
            highChecks++;
            if (highChecks == 1) {
                events.add("getting busy: backlog " + backlog + " > limit " + limit);
            }
            if (highChecks % CHECKS == 0) {
                status = CONGESTED;
                if (workers < maxWorkers) {
                    events.add("congested: backlog " + backlog + " > " + limit + " on " + CHECKS
                            + " consecutive checks; workers " + workers + " -> " + (workers + 1));
                    workers++;
                } else if (highChecks == CHECKS) {
                    events.add("congested: backlog " + backlog + " > " + limit + " on " + CHECKS
                            + " consecutive checks; already at MAX_WORKERS=" + maxWorkers);
                }
            }
            return events;
        }
        highChecks = 0;
        if (CONGESTED.equals(status)) {
            events.add("congestion over: backlog " + backlog + " <= " + limit);
        }
        status = OK;
        if (backlog * 3 < limit && workers > minWorkers) {
            events.add("quiet: backlog " + backlog + " < " + limit + "/3; workers " + workers + " -> " + (workers - 1));
            workers--;
        }
        return events;
    }

    public int workers() {
        return workers;
    }

    public String status() {
        return status;
    }
}

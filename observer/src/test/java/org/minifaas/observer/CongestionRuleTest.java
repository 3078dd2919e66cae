package org.minifaas.observer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class CongestionRuleTest {

    @Test
    void threeHighChecksInARowMeanCongestionAndOneMoreWorker() {
        CongestionRule rule = new CongestionRule(10, 3, 5, 3, "OK");
        List<String> first = rule.check(11);
        assertEquals(1, first.size());
        assertTrue(first.get(0).startsWith("getting busy"));
        assertEquals("OK", rule.status());
        assertEquals(List.of(), rule.check(15));
        List<String> third = rule.check(12);
        assertTrue(third.get(0).startsWith("congested"), third.toString());
        assertEquals("congested", rule.status());
        assertEquals(4, rule.workers());
    }

    @Test
    void anInterruptedStreakStartsOver() {
        CongestionRule rule = new CongestionRule(10, 3, 5, 3, "OK");
        rule.check(11);
        rule.check(11);
        rule.check(10); // not above the limit
        rule.check(11);
        rule.check(11);
        assertEquals("OK", rule.status());
        assertEquals(3, rule.workers());
    }

    @Test
    void workersGrowEveryThreeChecksUpToTheMaximum() {
        CongestionRule rule = new CongestionRule(10, 3, 5, 3, "OK");
        for (int i = 0; i < 12; i++) {
            rule.check(50);
        }
        assertEquals(5, rule.workers());
    }

    @Test
    void quietQueueGivesWorkersBackDownToTheMinimum() {
        CongestionRule rule = new CongestionRule(10, 3, 5, 5, "congested");
        List<String> events = rule.check(3);
        assertTrue(events.get(0).startsWith("congestion over"), events.toString());
        assertTrue(events.get(1).startsWith("quiet"), events.toString());
        assertEquals("OK", rule.status());
        assertEquals(4, rule.workers());
        rule.check(0);
        rule.check(0);
        rule.check(0);
        assertEquals(3, rule.workers());
        assertEquals(List.of(), rule.check(0));
    }

    @Test
    void betweenAThirdAndTheLimitNothingChanges() {
        CongestionRule rule = new CongestionRule(10, 3, 5, 4, "OK");
        assertEquals(List.of(), rule.check(4)); // 4*3 = 12 >= 10: not quiet
        assertEquals(4, rule.workers());
    }

    @Test
    void restoredCountsAreClampedToTheLimits() {
        assertEquals(3, new CongestionRule(10, 3, 5, 0, "OK").workers());
        assertEquals(5, new CongestionRule(10, 3, 5, 99, "OK").workers());
    }
}
